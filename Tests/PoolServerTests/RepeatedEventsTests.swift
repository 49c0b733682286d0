// Repeated log events are summarised per interval: the first written at once, then one line
// per interval with the count, whatever the number of occurrences. Time is injected.

import Logging
import PoolRuntime
import Synchronization
import Testing

@testable import PoolServer

@Suite struct RepeatedEventsTests {
    @Test func theFirstOccurrenceIsWrittenAndRepeatsAreCountedUntilTheIntervalEnds() {
        var events = RepeatedEvents<String>(interval: .seconds(10))
        #expect(events.record("a", at: .seconds(0)) == .first("a"))
        for second in 1...9 { #expect(events.record("a", at: .seconds(second)) == nil) }
        #expect(events.nextSummary == .seconds(10))
        #expect(events.flush(at: .seconds(9)) == [])
        #expect(events.flush(at: .seconds(10)) == [.repeated("a", count: 9, span: .seconds(10))])
        #expect(events.nextSummary == nil)
    }

    @Test func keysAreCountedApart() {
        var events = RepeatedEvents<String>(interval: .seconds(10))
        #expect(events.record("a", at: .zero) == .first("a"))
        #expect(events.record("b", at: .seconds(1)) == .first("b"))
        #expect(events.record("a", at: .seconds(2)) == nil)
        #expect(events.record("b", at: .seconds(3)) == nil)
        #expect(events.record("b", at: .seconds(4)) == nil)
        #expect(events.nextSummary == .seconds(10))
        #expect(
            events.flush(at: .seconds(11)) == [.repeated("a", count: 1, span: .seconds(11)), .repeated("b", count: 2, span: .seconds(10))])
    }

    /// A steady stream stays summarised: after a summary the next window counts from there,
    /// with no fresh "first" line.
    @Test func aSteadyStreamIsOneLinePerInterval() {
        var events = RepeatedEvents<String>(interval: .seconds(10))
        var lines: [RepeatedEvents<String>.Line] = []
        // 100 occurrences a second for a minute, flushed every second as a timer would.
        for millisecond in stride(from: 0, to: 60_000, by: 10) {
            let now = Duration.milliseconds(millisecond)
            if let line = events.record("a", at: now) { lines.append(line) }
            if millisecond % 1_000 == 0 { lines += events.flush(at: now) }
        }
        lines += events.flush(at: .seconds(70))
        #expect(lines.first == .first("a"))
        #expect(lines.count == 7, "\(lines)")
        let counted = lines.dropFirst().map { line -> Int in
            guard case .repeated(_, let count, _) = line else { return 0 }
            return count
        }
        #expect(counted.reduce(0, +) == 5_999)
    }

    /// An event seen after its window ended, before any flush, brings the summary with it.
    @Test func anOccurrenceAfterTheWindowWritesTheSummaryWithoutATimer() {
        var events = RepeatedEvents<String>(interval: .seconds(10))
        _ = events.record("a", at: .zero)
        _ = events.record("a", at: .seconds(5))
        #expect(events.record("a", at: .seconds(12)) == .repeated("a", count: 2, span: .seconds(12)))
        #expect(events.record("a", at: .seconds(13)) == nil)
    }

    /// A key quiet for a whole window is forgotten: its next occurrence is written at once.
    @Test func aQuietKeyIsForgottenAndWrittenAgainAtOnce() {
        var events = RepeatedEvents<String>(interval: .seconds(10))
        _ = events.record("a", at: .zero)
        #expect(events.flush(at: .seconds(10)) == [])
        #expect(events.openKeys == 0)
        #expect(events.record("a", at: .seconds(30)) == .first("a"))
        var late = RepeatedEvents<String>(interval: .seconds(10))
        _ = late.record("a", at: .zero)
        #expect(late.record("a", at: .seconds(10)) == .first("a"))
    }
}

@Suite struct RepeatedRetryLogTests {
    /// A clock the test moves.
    final class TestClock: PoolClock {
        let time = Mutex(Duration.zero)
        var now: Duration { self.time.withLock { $0 } }
        func advance(_ by: Duration) { self.time.withLock { $0 += by } }
        func sleep(for duration: Duration) async throws { throw CancellationError() }
    }

    /// Keeps the timers it is given; the test runs those that are due.
    final class TestScheduler: PoolScheduler {
        let timers = Mutex<[(due: Duration, body: @Sendable () -> Void)]>([])
        let clock: TestClock

        init(clock: TestClock) {
            self.clock = clock
        }

        func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> any PoolCancellable {
            let due = self.clock.now + delay
            self.timers.withLock { $0.append((due, body)) }
            return NothingToCancel()
        }

        func task(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> { Task { await work() } }

        var pending: Int { self.timers.withLock { $0.count } }

        func runDue() {
            let now = self.clock.now
            let due = self.timers.withLock { timers in
                defer { timers.removeAll { $0.due <= now } }
                return timers.filter { $0.due <= now }
            }
            due.forEach { $0.body() }
        }
    }

    /// 10,000 retries of one method after one node for one reason over 30 s are 4 log lines
    /// (the first, then one per 10 s) instead of 10,000, and every retry is still counted.
    @Test func tenThousandIdenticalRetriesAreAFewLines() {
        let clock = TestClock()
        let scheduler = TestScheduler(clock: clock)
        let lines = Mutex<[String]>([])
        let logger = LogLevels().logger("fullpool") { line in lines.withLock { $0.append(line) } }
        let telemetry = PoolTelemetry(logger: logger, metrics: PoolMetrics(), clock: clock, scheduler: scheduler)
        let reason = "network: request never reached the node (daemon-a: connection refused)"
        for call in 0..<10_000 {
            telemetry.callRetried(method: "Filecoin.StateGetActor", node: "daemon-a", reason: reason)
            if call % 100 == 99 {
                clock.advance(.milliseconds(300))
                scheduler.runDue()
            }
        }
        clock.advance(.seconds(10))
        scheduler.runDue()
        let written = lines.withLock { $0 }
        #expect(written.count == 4, "\(written)")
        #expect(written.first?.hasSuffix("info fullpool: Filecoin.StateGetActor retried after daemon-a: \(reason)") == true)
        let counts = written.dropFirst().compactMap { line -> Int? in
            guard let start = line.range(of: "(×")?.upperBound, let end = line.range(of: " in the last")?.lowerBound else { return nil }
            return Int(line[start..<end])
        }
        #expect(counts.count == 3)
        #expect(counts.reduce(0, +) == 9_999)
        #expect(written[1].hasSuffix("\(reason) (×\(counts[0]) in the last 10 s)"), "\(written[1])")
        // Quiet again: the timer is not re-armed, and a new retry is written at once.
        #expect(scheduler.pending == 0)
        clock.advance(.seconds(10))
        scheduler.runDue()
        telemetry.callRetried(method: "Filecoin.StateGetActor", node: "daemon-a", reason: reason)
        #expect(lines.withLock { $0.count } == 5)
    }

    /// Different nodes or reasons are different lines, each written the first time.
    @Test func differentNodesAndReasonsAreWrittenApart() {
        let clock = TestClock()
        let lines = Mutex<[String]>([])
        let logger = LogLevels().logger("fullpool") { line in lines.withLock { $0.append(line) } }
        let telemetry = PoolTelemetry(logger: logger, metrics: PoolMetrics(), clock: clock, scheduler: TestScheduler(clock: clock))
        for _ in 0..<3 {
            telemetry.callRetried(method: "Filecoin.StateGetActor", node: "daemon-a", reason: "network: a")
            telemetry.callRetried(method: "Filecoin.StateGetActor", node: "daemon-b", reason: "network: a")
            telemetry.callRetried(method: "Filecoin.StateGetActor", node: "daemon-a", reason: "block not found: b")
            telemetry.callRetried(method: "Filecoin.ChainHead", node: "daemon-a", reason: "network: a")
        }
        #expect(lines.withLock { $0.count } == 4)
    }
}
