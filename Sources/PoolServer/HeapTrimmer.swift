// Gives memory freed after a burst back to the system. glibc keeps the small blocks a flood of
// calls freed in its arenas: after the hostile ws-flood closed, fpool's resident memory stayed
// at its peak (147 MiB, against 33 MiB before it), though the bytes were free. `malloc_trim`
// returns them. It walks every arena under its lock, so it runs only when resident memory is
// well above its low mark, less often while trims give little back, and off the event loops.

#if canImport(Glibc)
    import Glibc
#endif
import NIOPosix
import Synchronization

/// Trims the heap when the process's resident memory is `growth` bytes above its low mark (what
/// it was after the last trim that gave much back, or at the first check). A trim that gives
/// little back (the memory is in use: a flood still running, a full result cache) doubles the
/// wait before the next, up to `maxBackoff` checks, so a process that legitimately grew does not
/// walk its heap every check; one that gives back resets it. On a system without glibc it never
/// trims.
///
/// Concurrency: `check` may be called from any thread; it blocks for the trim.
final class HeapTrimmer: Sendable {
    let growth: Int
    let maxBackoff: Int
    private struct State {
        /// Resident bytes after the last trim that gave much back, or at the first check.
        var lowMark: Int?
        /// Checks to skip before the next trim, and the wait after the next unproductive one.
        var skip = 0
        var backoff = 1
    }
    private let state = Mutex(State())
    private let resident: @Sendable () -> Int?
    private let trim: (@Sendable () -> Void)?

    /// - Parameters:
    ///   - resident: the process's resident bytes (tests give their own readings).
    ///   - trim: gives freed memory back; nil where there is no way to.
    init(
        growth: Int = 32 << 20, maxBackoff: Int = 8, resident: @escaping @Sendable () -> Int? = HeapTrimmer.residentBytes,
        trim: (@Sendable () -> Void)? = HeapTrimmer.systemTrim
    ) {
        self.growth = growth
        self.maxBackoff = maxBackoff
        self.resident = resident
        self.trim = trim
    }

    /// One check: resident bytes before and after, when it trimmed.
    func check() -> (before: Int, after: Int)? {
        guard let trim = self.trim, let before = self.resident() else { return nil }
        let due = self.state.withLock { state -> Bool in
            guard let low = state.lowMark, before > low + self.growth else {
                state.lowMark = min(state.lowMark ?? before, before)
                return false
            }
            guard state.skip == 0 else {
                state.skip -= 1
                return false
            }
            return true
        }
        guard due else { return nil }
        trim()
        let after = self.resident() ?? before
        self.state.withLock { state in
            if before - after >= self.growth / 2 {
                state.lowMark = min(state.lowMark ?? after, after)
                state.backoff = 1
            } else {
                state.skip = state.backoff
                state.backoff = min(state.backoff * 2, self.maxBackoff)
            }
        }
        return (before, after)
    }

    /// Checks every `interval` on NIO's blocking-work threads until cancelled; `trimmed` hears
    /// of every trim that gave memory back.
    func run(every interval: Duration, trimmed: @escaping @Sendable (_ before: Int, _ after: Int) -> Void) async {
        guard self.trim != nil else { return }
        // The low mark is what the process holds when it starts serving, before any burst.
        _ = self.check()
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            if let (before, after) = try? await NIOThreadPool.singleton.runIfActive({ self.check() }) {
                if before - after >= self.growth / 2 { trimmed(before, after) }
            }
        }
    }

    /// The process's resident memory, from `/proc/self/statm` (Linux).
    static func residentBytes() -> Int? {
        #if canImport(Glibc)
            let file = open("/proc/self/statm", O_RDONLY)
            guard file >= 0 else { return nil }
            defer { close(file) }
            var text = [UInt8](repeating: 0, count: 128)
            let count = text.withUnsafeMutableBytes { read(file, $0.baseAddress, $0.count) }
            // "size resident shared …", in pages.
            let fields = text.prefix(max(0, count)).split(separator: UInt8(ascii: " "))
            guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return nil }
            return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
            return nil
        #endif
    }

    /// glibc's `malloc_trim(0)`, looked up at run time: Swift's Glibc module leaves out
    /// `<malloc.h>`, and another C library (musl) has none.
    static let systemTrim: (@Sendable () -> Void)? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
            let mallocTrim = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
            return { _ = mallocTrim(0) }
        #else
            return nil
        #endif
    }()
}
