// WebSocket masking keys for the frames a client sends, drawn from the system's random source
// in blocks: one system call per 1,024 frames instead of one per frame.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import NIOWebSocket
import Synchronization

/// Unpredictable masking keys (RFC 6455 §5.3 asks for a strong source of entropy), buffered.
///
/// Concurrency: `next()` may be called from any thread.
final class MaskingKeySource: Sendable {
    static let shared = MaskingKeySource()

    private static let blockKeys = 1024
    private let state = Mutex<(keys: [UInt64], next: Int)>(([], 0))

    func next() -> WebSocketMaskingKey {
        let key = self.state.withLock { state -> UInt64 in
            if state.next == state.keys.count {
                state.keys = Self.randomBlock()
                state.next = 0
            }
            defer { state.next += 1 }
            return state.keys[state.next]
        }
        var drawn = DrawnValue(value: key)
        return .random(using: &drawn)
    }

    /// Hands out one value already drawn from the system's source.
    private struct DrawnValue: RandomNumberGenerator {
        let value: UInt64
        func next() -> UInt64 { self.value }
    }

    private static func randomBlock() -> [UInt64] {
        var keys = [UInt64](repeating: 0, count: Self.blockKeys)
        // One system call for the block (glibc's and Darwin's arc4random_buf read the kernel's
        // random source).
        keys.withUnsafeMutableBytes { bytes in arc4random_buf(bytes.baseAddress!, bytes.count) }
        return keys
    }
}
