// `fpool top` against a pool served on loopback: its plain-text frames when the output is not a
// terminal, and, in a real terminal (tmux), the screen redrawn in place until `q`.

import FPoolTestSupport
import Foundation
import LotusWire
import PoolRuntime
import Testing

@Suite(.timeLimit(.minutes(1))) struct TopCommandTests {
    let fpool = ProcessRunner.builtProduct("fpool")

    static let tmux: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    func environment(_ served: ServedPool) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["FPOOL_PATH"] = served.instance.repo.path
        environment["FPOOL_API_INFO"] = nil
        return environment
    }

    @Test func framesInPlainTextShowEveryNodeAndTheBusiestMethod() async throws {
        try await withServedPool(configure: { _, environment in environment.settings.hedgeDelay = .off }) { served in
            // Reads from before top starts until it ends: the later frames measure them however
            // slowly this test's task runs on a loaded machine.
            _ = try await served.http("Filecoin.StateNetworkName")
            let reader = Task {
                // Bounded by time, not count: a fast machine must not run out before top's last frame.
                let end = ContinuousClock.now + .seconds(50)
                while !Task.isCancelled && ContinuousClock.now < end { _ = try? await served.http("Filecoin.StateNetworkName") }
            }
            let process = try RunningProcess(self.fpool, ["top", "--frames=3", "--interval=1s"], environment: self.environment(served))
            defer { process.terminate() }
            #expect(await process.exitStatus() == 0)
            reader.cancel()
            await reader.value
            // A needle never printed: everything, once the output has ended.
            let output = await process.output(containing: "\u{0}")
            let frames = output.components(separatedBy: "fpool top: ").dropFirst()
            #expect(frames.count == 3, "\(output)")
            // No terminal: no control sequences, and no promise that q does anything.
            #expect(!output.contains("\u{1B}["))
            #expect(!output.contains("q quits"))
            for frame in frames {
                #expect(frame.hasPrefix("pool healthy, 3 of 3 nodes serving, network fpoolsim"))
                for daemon in served.cluster.daemons {
                    #expect(frame.split(separator: "\n").contains { $0.hasPrefix(daemon.name) && $0.hasSuffix("running") })
                }
            }
            // A later frame measured the reads, by method.
            let rates = frames.dropFirst().map { frame in
                frame.split(separator: "\n").first { $0.hasPrefix("StateNetworkName") }
                    .flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? 0
            }
            #expect(rates.contains { $0 > 0 }, "\(output)")
        }
    }

    /// Runs tmux on this test's own server (`-L socket`, no configuration file).
    static func tmux(_ path: String, socket: String, _ arguments: [String]) async throws -> ProcessOutcome {
        try await ProcessRunner.run(URL(fileURLWithPath: path), ["-L", socket, "-f", "/dev/null"] + arguments)
    }

    @Test(.enabled(if: Self.tmux != nil, "needs tmux (Debian's tmux package)"))
    func inATerminalTheScreenIsRedrawnInPlaceAndQQuits() async throws {
        let tmux = try #require(Self.tmux)
        // A server of this test's own, so none left by another run is used, and none is left behind.
        let socket = "fpool-top-\(UUID().uuidString.prefix(8))"
        try await withServedPool { served in
            let command = "FPOOL_PATH='\(served.instance.repo.path)' '\(self.fpool.path)' top --interval=200ms"
            // The new session starts the tmux server, which lives on: it must not inherit this
            // process's descriptors (a pool's or daemon's socket kept open by it would never close),
            // so bash (dash cannot name descriptors past 9) closes every one above stderr first.
            let start = try await ProcessRunner.run(
                URL(fileURLWithPath: "/bin/bash"),
                [
                    "-c", #"for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null; exec "$0" "$@""#,
                    tmux, "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "top", "-x", "150", "-y", "30", command,
                ])
            #expect(start.status == 0, "\(start.stderr)")
            defer { _ = try? ProcessRunner.runBlocking(URL(fileURLWithPath: tmux), ["-L", socket, "kill-server"]) }
            // Frames come every 200 ms; look for one for up to 10 s.
            var screen = ""
            for _ in 0..<50 {
                screen = try await Self.tmux(tmux, socket: socket, ["capture-pane", "-p", "-t", "top"]).stdout
                if screen.contains("sim-daemon-2") { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            // Redrawn in place: the header is on the first line, once, however many frames passed.
            #expect(lines.first?.hasPrefix("fpool top: pool healthy, 3 of 3 nodes serving") == true, "\(screen)")
            #expect(screen.components(separatedBy: "fpool top:").count == 2, "\(screen)")
            #expect(screen.contains("q quits"))
            _ = try await Self.tmux(tmux, socket: socket, ["send-keys", "-t", "top", "q"])
            // q ends top, and with it the session's only window.
            var ended = false
            for _ in 0..<50 {
                if try await Self.tmux(tmux, socket: socket, ["has-session", "-t", "top"]).status != 0 {
                    ended = true
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(ended, "fpool top did not quit on q")
        }
    }
}
