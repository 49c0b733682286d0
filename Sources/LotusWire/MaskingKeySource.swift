// WebSocket masking keys for the frames a client sends, drawn from the system's random source
// in blocks: one system call per 64 frames instead of one per frame.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// Unpredictable masking keys (RFC 6455 §5.3 asks for a strong source of entropy), buffered.
///
/// Concurrency: `next()` may be called from any thread.
final class MaskingKeySource: Sendable {
    static let shared = MaskingKeySource()

    /// `getentropy`'s most per call: 64 keys.
    private static let blockBytes = 256
    private let state = Mutex<(bytes: [UInt8], next: Int)>(([], 0))

    /// The next key's four bytes, read big-endian (as they go on the wire).
    func nextKey() -> UInt32 {
        self.state.withLock { state in
            if state.next == state.bytes.count {
                state.bytes = Self.randomBlock()
                state.next = 0
            }
            defer { state.next += 4 }
            let at = state.next
            return UInt32(state.bytes[at]) << 24 | UInt32(state.bytes[at + 1]) << 16 | UInt32(state.bytes[at + 2]) << 8
                | UInt32(state.bytes[at + 3])
        }
    }

    private static func randomBlock() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.blockBytes)
        let filled = bytes.withUnsafeMutableBytes { buffer -> Bool in
            #if canImport(Darwin)
                arc4random_buf(buffer.baseAddress!, buffer.count)
                return true
            #else
                // glibc 2.25+ and musl; reads the kernel's random source (getrandom).
                return getentropy(buffer.baseAddress, buffer.count) == 0
            #endif
        }
        if !filled {
            var system = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = system.next() }
        }
        return bytes
    }
}
