// Names the input a fuzz target crashed or hung on. A trap ends the test process before any
// test can record an issue, so a signal handler prints the seed and the input's hex instead,
// and a watchdog turns a hang into such a report.

import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The input one fuzz loop is checking, published for its thread's signal handler and its
/// watchdog. Addresses are kept as integers in atomics: the handler only loads them.
final class InputInFlight: Sendable {
    let seed: UInt64
    /// The target's name as bytes the signal handler can write without allocating.
    private let nameAddress: Int
    private let nameCount: Int
    private let address = Atomic<Int>(0)
    private let length = Atomic<Int>(0)
    /// Inputs checked so far: the watchdog's measure of progress.
    private let checked = Atomic<Int>(0)
    /// Watchdog ticks since `checked` last moved.
    private let stalledTicks = Atomic<Int>(0)
    private let lastChecked = Atomic<Int>(-1)
    /// Set by the watchdog before it interrupts a hung check.
    private let hung = Atomic<Bool>(false)

    /// A single check running this long (with no new input) is a hang.
    static let hangSeconds = 60

    init(target: String, seed: UInt64) {
        self.seed = seed
        let name = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: target.utf8.count)
        _ = name.initialize(from: target.utf8)
        self.nameAddress = Int(bitPattern: name.baseAddress)
        self.nameCount = name.count
        _ = Self.installHandlers
    }

    deinit { UnsafeMutablePointer<UInt8>(bitPattern: self.nameAddress)?.deallocate() }

    /// Runs `check` on `bytes` with them published, on the calling thread.
    func checking(_ bytes: [UInt8], _ check: ([UInt8]) throws(FuzzFailure) -> String) -> Result<String, FuzzFailure> {
        bytes.withUnsafeBufferPointer { buffer in
            self.address.store(Int(bitPattern: buffer.baseAddress), ordering: .releasing)
            self.length.store(buffer.count, ordering: .releasing)
            pthread_setspecific(inFlightKey, Unmanaged.passUnretained(self).toOpaque())
            defer {
                pthread_setspecific(inFlightKey, nil)
                self.address.store(0, ordering: .releasing)
                self.checked.add(1, ordering: .relaxed)
            }
            return Result { () throws(FuzzFailure) in try check(bytes) }
        }
    }

    /// Watches the calling thread until the returned timer is cancelled: a check that makes
    /// no progress for `hangSeconds` gets SIGTRAP, whose handler reports the input (and Swift's
    /// backtracer the hung thread's stack); the process ends soon after.
    func watchThisThread() -> any DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: .global())
        #if os(Linux)
            let thread = pthread_self()
            timer.setEventHandler { [self] in
                let checked = self.checked.load(ordering: .relaxed)
                guard self.lastChecked.exchange(checked, ordering: .relaxed) == checked,
                    self.address.load(ordering: .acquiring) != 0
                else { return self.stalledTicks.store(0, ordering: .relaxed) }
                switch self.stalledTicks.add(1, ordering: .relaxed).newValue {
                case Self.hangSeconds:
                    // SIGTRAP: the concurrency pool's threads (libdispatch workers) block every
                    // signal but the synchronous ones, SIGUSR1 and SIGUSR2 included.
                    self.hung.store(true, ordering: .releasing)
                    pthread_kill(thread, SIGTRAP)
                case Self.hangSeconds + 5:
                    // A signal sent, unlike a trap, does not come back when the backtracer
                    // returns from it: the process is ended here once the report is out.
                    _exit(EXIT_FAILURE)
                default: break
                }
            }
        #endif
        timer.schedule(deadline: .now() + 1, repeating: 1)
        timer.resume()
        return timer
    }

    /// Writes `fuzz <target> <what> (seed 0x…); input (hex): …` to standard error with
    /// `write(2)` alone: it runs inside a signal handler.
    fileprivate func report() {
        let what: StaticString = self.hung.load(ordering: .acquiring) ? "hung" : "crashed"
        Self.emit("\nfuzz ")
        Self.emit(UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: self.nameAddress), count: self.nameCount))
        Self.emit(" ")
        Self.emit(what)
        Self.emit(" (seed 0x")
        withUnsafeBytes(of: self.seed.bigEndian) { Self.writeHex($0) }
        Self.emit("); input (hex): ")
        let address = self.address.load(ordering: .acquiring)
        if let start = UnsafeRawPointer(bitPattern: address) {
            Self.writeHex(UnsafeRawBufferPointer(start: start, count: self.length.load(ordering: .acquiring)))
        }
        Self.emit("\nAdd the input to the target's regression cases to replay it.\n")
    }

    private static func emit(_ text: StaticString) {
        Self.emit(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private static func emit(_ bytes: UnsafeRawBufferPointer) {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = write(2, next, left)
            guard written > 0 else { return }
            next += written
            left -= written
        }
    }

    /// Hex on the stack, 512 input bytes at a time.
    private static func writeHex(_ bytes: UnsafeRawBufferPointer) {
        let digits: StaticString = "0123456789abcdef"
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { text in
            var offset = 0
            while offset < bytes.count {
                let chunk = min(512, bytes.count - offset)
                for index in 0..<chunk {
                    let byte = bytes[offset + index]
                    text[2 * index] = digits.utf8Start[Int(byte >> 4)]
                    text[2 * index + 1] = digits.utf8Start[Int(byte & 0xF)]
                }
                Self.emit(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(text)[..<(2 * chunk)]))
                offset += chunk
            }
        }
    }

    /// The signals a trap, a bad access or an abort raise (and the watchdog sends).
    fileprivate static let fatalSignals: [Int32] = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT]

    /// Installs the handlers once, keeping the actions they replace (Swift's backtracer) to
    /// hand the signal on to after the report.
    private static let installHandlers: Void = {
        for signal in InputInFlight.fatalSignals {
            var action = sigaction()
            #if os(Linux)
                action.__sigaction_handler.sa_handler = reportFatalSignal
            #else
                action.__sigaction_u.__sa_handler = reportFatalSignal
            #endif
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, previousActions.pointer(signal))
        }
    }()
}

/// The calling thread's `InputInFlight`, while it checks an input.
private let inFlightKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// The actions the handlers replaced, indexed by signal number; allocated once, never freed.
private let previousActions = SavedActions()

private struct SavedActions: Sendable {
    private let address = Int(bitPattern: UnsafeMutablePointer<sigaction>.allocate(capacity: 64))

    func pointer(_ signal: Int32) -> UnsafeMutablePointer<sigaction> {
        UnsafeMutablePointer<sigaction>(bitPattern: self.address)! + Int(signal)
    }
}

/// Reports the input in flight on this thread, then hands the signal to the action it
/// replaced (Swift's backtracer): re-raised, it is delivered when this handler returns.
private func reportFatalSignal(_ signal: Int32) {
    if let slot = pthread_getspecific(inFlightKey) {
        Unmanaged<InputInFlight>.fromOpaque(slot).takeUnretainedValue().report()
    }
    for restored in InputInFlight.fatalSignals { sigaction(restored, previousActions.pointer(restored), nil) }
    raise(signal)
}
