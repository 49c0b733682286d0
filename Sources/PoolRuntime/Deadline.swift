// Bounding work that may ignore cancellation (a hung dial, a stuck daemon, a channel's close
// future): the caller returns at the deadline whatever the work does.

import Synchronization

extension Pool {
    /// The work's result, or `timedOut` once `limit` passes, whichever comes first. The caller
    /// returns at the deadline even if the work ignores cancellation (it is cancelled and left to
    /// finish on its own), unlike a task group, which waits for every child.
    func bounded<T: Sendable>(
        _ limit: Duration, timedOut: T, _ work: @escaping @Sendable () async -> T
    ) async -> T {
        let race = DeadlineRace<T>()
        // A caller that gives up (client cancel, disconnect) cancels the work too, so a call to
        // a daemon is cancelled there rather than left running; its answer still decides.
        return await withTaskCancellationHandler {
            await race.run(work) {
                try? await self.clock.sleep(for: limit)
                return Task.isCancelled ? nil : timedOut
            }
        } onCancel: {
            race.cancelWork()
        }
    }
}

/// Waits for whichever comes first: the work's result, the timer's value, or `settle`. The
/// other tasks are cancelled and left to end on their own, so the waiter returns at once even
/// when the losing work ignores cancellation.
///
/// Concurrency: one `run` per race; `settle` and `cancelWork` may be called from any task,
/// before or during `run`.
package final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var decided = false
        var outcome: T?
        var continuation: CheckedContinuation<T, Never>?
        var cancelWork: (@Sendable () -> Void)?
        var cancelAll: (@Sendable () -> Void)?
        var workCancelled = false
    }

    private let state = Mutex(State())

    /// An undecided race; call `run` once to start it.
    package init() {}

    /// Starts `work` and `timer` and returns the first value either gives (a nil from the timer
    /// decides nothing: it was cancelled), or the value `settle` gave.
    package func run(_ work: @escaping @Sendable () async -> T, timer: @escaping @Sendable () async -> T?) async -> T {
        let workTask = Task { await work() }
        let timerTask = Task { await timer() }
        let cancelAll: @Sendable () -> Void = {
            workTask.cancel()
            timerTask.cancel()
        }
        return await withCheckedContinuation { continuation in
            let (settled, cancelWorkNow) = self.state.withLock { state -> (T?, Bool) in
                if state.decided { return (state.outcome, false) }
                state.continuation = continuation
                state.cancelWork = { workTask.cancel() }
                state.cancelAll = cancelAll
                return (nil, state.workCancelled)
            }
            if let settled {
                cancelAll()
                return continuation.resume(returning: settled)
            }
            if cancelWorkNow { workTask.cancel() }
            Task { self.decide(await workTask.value) }
            Task { if let value = await timerTask.value { self.decide(value) } }
        }
    }

    /// Ends the wait now with `value` (a waiter that is itself cancelled and must not wait).
    package func settle(_ value: T) {
        self.decide(value)
    }

    /// Cancels the work only; the wait goes on for its result or the timer.
    package func cancelWork() {
        self.state.withLock { state in
            state.workCancelled = true
            return state.cancelWork
        }?()
    }

    private func decide(_ value: T) {
        let (continuation, cancelAll) = self.state.withLock {
            state -> (CheckedContinuation<T, Never>?, (@Sendable () -> Void)?) in
            guard !state.decided else { return (nil, nil) }
            state.decided = true
            state.outcome = value
            defer {
                state.continuation = nil
                state.cancelWork = nil
                state.cancelAll = nil
            }
            return (state.continuation, state.cancelAll)
        }
        cancelAll?()
        continuation?.resume(returning: value)
    }
}
