// A program a test starts (`fpool`, `apigen`, python3, tmux), spawned with posix_spawn.
// Foundation's Process is not used: on Linux its run() copies each /proc/self/fd entry whole
// past the end of the record, which crashes the whole test process now and then once the
// suites hold over a thousand sockets (swift-corelibs-foundation pull request 5472).

import Foundation
import Synchronization

import Glibc

public final class ChildProcess: Sendable {
    /// What went wrong starting a program.
    public struct SpawnError: Error, CustomStringConvertible {
        public let executable: String
        public let step: String
        public let code: Int32
        public var description: String { "could not start \(self.executable): \(self.step): \(String(cString: strerror(self.code)))" }
    }

    public let pid: pid_t
    /// The read end of the child's standard output (and of its standard error, when merged).
    public let output: FileHandle
    /// The read end of the child's standard error; nil when merged into `output`.
    public let errors: FileHandle?
    private let status = Mutex<Int32?>(nil)
    /// Held across waitpid: a second waiter would otherwise find the child reaped (ECHILD)
    /// before the first has recorded how it ended.
    private let reaping = Mutex(())

    /// Starts `executable` with standard input from /dev/null and its output on pipes.
    ///
    /// - Parameters:
    ///   - environment: the whole environment; nil passes this process's own.
    ///   - mergingErrors: standard error goes to the same pipe as standard output.
    public init(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil, mergingErrors: Bool = false) throws {
        let path = executable.path(percentEncoded: false)
        func fail(_ step: String, _ code: Int32 = errno) -> SpawnError { SpawnError(executable: path, step: step, code: code) }
        let out = try Self.pipe(fail)
        let err: (read: Int32, write: Int32)
        do { err = mergingErrors ? out : try Self.pipe(fail) } catch {
            close(out.read)
            close(out.write)
            throw error
        }
        defer {
            // The parent keeps only the read ends; the child has its own copies of the write ends.
            close(out.write)
            if !mergingErrors { close(err.write) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out.write, 1)
        posix_spawn_file_actions_adddup2(&actions, err.write, 2)
        // Every other descriptor is close-on-exec or closed here: a child holding another
        // test's socket or pipe would keep it open past that test's close.
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        var pid = pid_t()
        let spawned = envp.map { posix_spawn(&pid, path, &actions, nil, argv, $0) } ?? posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else {
            close(out.read)
            if !mergingErrors { close(err.read) }
            throw fail("posix_spawn", spawned)
        }
        self.pid = pid
        self.output = FileHandle(fileDescriptor: out.read, closeOnDealloc: true)
        self.errors = mergingErrors ? nil : FileHandle(fileDescriptor: err.read, closeOnDealloc: true)
    }

    private static func pipe(_ fail: (String, Int32) -> SpawnError) throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard Glibc.pipe(&ends) == 0 else { throw fail("pipe", errno) }
        // Close-on-exec: a child spawned by another test must not hold this pipe open (the
        // closefrom action covers the moment before this, where the C library has it).
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }

    /// glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module does
    /// not declare; nil where the C library lacks it.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(
            symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Sends `signal` (SIGINT, as Ctrl-C does; SIGTERM) unless the child has been reaped.
    public func send(_ signal: Int32) {
        // Once reaped, the pid may name another process.
        self.status.withLock { status in
            if status == nil { _ = kill(self.pid, signal) }
        }
    }

    /// Blocks until the child ends and returns its exit code, or the number of the signal that
    /// ended it (as Foundation's Process does). Call it from a plain thread.
    public func waitForExit() -> Int32 {
        self.reaping.withLock { _ in
            if let known = self.status.withLock({ $0 }) { return known }
            // Waited for without reaping, then reaped under the lock `send` takes: a signal is
            // never sent to a pid the system may already have given to another process.
            var info = siginfo_t()
            while waitid(P_PID, id_t(self.pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
            return self.status.withLock { status in
                var raw: Int32 = 0
                var reaped: pid_t
                repeat { reaped = waitpid(self.pid, &raw, 0) } while reaped == -1 && errno == EINTR
                let code = reaped == -1 ? -1 : (raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f)
                status = code
                return code
            }
        }
    }

    /// Whether the child was seen to end (by `waitForExit`).
    public var hasExited: Bool { self.status.withLock { $0 != nil } }
}
