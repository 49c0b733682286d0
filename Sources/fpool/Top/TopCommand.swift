// `fpool top`: a live view of a running pool, refreshed every interval, as `top` or
// `lotus-miner sealing jobs` users expect. In a terminal the screen is redrawn in place and `q`
// quits; otherwise each frame is printed as plain text, one after another.

import ArgumentParser
import Foundation
import LotusWire
import RouteModel

struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "A live view of the running pool: nodes, calls and errors per second, busiest methods (q quits).")

    @Option(name: .long, help: "Time between frames, as a Go duration (default 1s).") var interval = "1s"
    @Option(name: .long, help: "Stop after this many frames (default: until q or Ctrl-C).") var frames: Int?

    func validate() throws {
        guard let duration = try? GoDuration(parsing: self.interval), duration.milliseconds >= 100 else {
            throw ValidationError("--interval: expected a Go duration of at least 100ms, such as 1s; got '\(self.interval)'")
        }
        if let frames = self.frames, frames < 1 { throw ValidationError("--frames: expected at least 1, got \(frames)") }
    }

    func run() async throws {
        let client = try PoolClient.locate()
        let interval = Duration.milliseconds(Int(try GoDuration(parsing: self.interval).milliseconds))
        let terminal = isatty(STDOUT_FILENO) == 1 ? TerminalKeys() : nil
        let inPlace = isatty(STDOUT_FILENO) == 1
        if inPlace { Console.write("\u{1B}[?25l\u{1B}[2J") }  // hide the cursor, clear the screen
        defer {
            terminal?.restore()
            if inPlace { Console.write("\u{1B}[?25h") }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.refresh(client, every: interval, inPlace: inPlace) }
            if let terminal { group.addTask { await terminal.quitPressed() } }
            group.addTask { await InterruptSignal.wait() }
            // Whichever ends first (q, Ctrl-C, the last frame, or an error) ends top.
            try await group.next()
            group.cancelAll()
        }
    }

    private func refresh(_ client: PoolClient, every interval: Duration, inPlace: Bool) async throws {
        var previous: (snapshot: JSON, at: ContinuousClock.Instant)?
        var shown = 0
        while !Task.isCancelled {
            let snapshot = try await client.call("Top")
            let now = ContinuousClock.now
            let seconds = previous.map { Self.seconds(now - $0.at) } ?? 0
            let frame = TopScreen.render(
                snapshot, previous: previous?.snapshot, seconds: seconds, interval: self.interval, inTerminal: inPlace)
            if inPlace {
                // Home, draw, clear what an older, longer frame left below.
                Console.write("\u{1B}[H" + frame.replacingOccurrences(of: "\n", with: "\u{1B}[K\n") + "\u{1B}[J")
            } else {
                Console.line(frame)
            }
            previous = (snapshot, now)
            shown += 1
            if let frames = self.frames, shown >= frames { return }
            try await Task.sleep(for: interval)
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
