// Writes repeatable log lines through `RepeatedEvents`: the first at once, then one summary
// line per interval (`… (×123 in the last 10 s)`) from a timer, so a burst of identical retries
// costs a few lines, not one per call.

import Logging
import PoolRuntime
import Synchronization

/// The repeatable lines of one logger.
///
/// Concurrency: `write` may be called from any thread; lines are written outside the lock.
final class RepeatedLogLines: Sendable {
    private struct Key: Hashable, Sendable {
        let level: Logger.Level
        let text: String
    }

    private struct State: Sendable {
        var events: RepeatedEvents<Key>
        /// Whether a flush is scheduled.
        var timerSet = false
    }

    private let logger: Logger
    private let clock: any PoolClock
    private let scheduler: any PoolScheduler
    private let state: Mutex<State>

    init(logger: Logger, interval: Duration = .seconds(10), clock: any PoolClock, scheduler: any PoolScheduler) {
        self.logger = logger
        self.clock = clock
        self.scheduler = scheduler
        self.state = Mutex(State(events: RepeatedEvents(interval: interval)))
    }

    /// Writes `text`, or counts it when the same text was written less than an interval ago.
    func write(_ level: Logger.Level, _ text: String) {
        // Off at this level: neither written nor counted (nothing would be summarised).
        guard self.logger.logLevel <= level else { return }
        let now = self.clock.now
        let (line, timer) = self.state.withLock { state -> (RepeatedEvents<Key>.Line?, Duration?) in
            let line = state.events.record(Key(level: level, text: text), at: now)
            return (line, Self.armTimer(&state, now: now))
        }
        if let line { self.emit(line) }
        if let timer { self.schedule(after: timer) }
    }

    /// Writes the summaries that are due; re-arms the timer while any count is open.
    func flush() {
        let now = self.clock.now
        let (lines, timer) = self.state.withLock { state -> ([RepeatedEvents<Key>.Line], Duration?) in
            state.timerSet = false
            return (state.events.flush(at: now), Self.armTimer(&state, now: now))
        }
        lines.forEach(self.emit)
        if let timer { self.schedule(after: timer) }
    }

    /// The delay of a timer to set, when a count is open and no timer is set.
    private static func armTimer(_ state: inout State, now: Duration) -> Duration? {
        guard !state.timerSet, let due = state.events.nextSummary else { return nil }
        state.timerSet = true
        return max(due - now, .zero)
    }

    private func schedule(after delay: Duration) {
        _ = self.scheduler.schedule(after: delay) { [weak self] in self?.flush() }
    }

    private func emit(_ line: RepeatedEvents<Key>.Line) {
        switch line {
        case .first(let key):
            self.logger.log(level: key.level, "\(key.text)")
        case .repeated(let key, let count, let span):
            self.logger.log(level: key.level, "\(key.text) (×\(count) in the last \(Self.seconds(span)) s)")
        }
    }

    /// Whole seconds, rounded to the nearest.
    static func seconds(_ span: Duration) -> Int64 {
        let (seconds, attoseconds) = span.components
        return seconds + (attoseconds >= 500_000_000_000_000_000 ? 1 : 0)
    }
}
