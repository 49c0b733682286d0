// Waits that end when the test is cancelled: Swift Testing's time limit cancels a test's task,
// but a wait on a continuation nobody resumes ignores that, and the test (and the whole run)
// hangs past its limit. Wrapped this way, the test moves on, fails its expectations and ends.

import Synchronization

/// Runs `wait` and returns when it finishes or when the calling task is cancelled, whichever
/// comes first (`cancelled()` is then the result); a `wait` given up on is left behind.
public func untilCancelled<T: Sendable>(
    _ wait: @escaping @Sendable () async -> T, cancelled: @escaping @Sendable () -> T
) async -> T {
    let outcome = FirstOutcome<T>()
    let waiting = Task { outcome.deliver(await wait()) }
    return await withTaskCancellationHandler {
        await withCheckedContinuation { continuation in
            outcome.await(continuation)
            if Task.isCancelled { outcome.deliver(cancelled()) }
        }
    } onCancel: {
        waiting.cancel()
        outcome.deliver(cancelled())
    }
}

/// `untilCancelled` for a wait with no result.
public func untilCancelled(_ wait: @escaping @Sendable () async -> Void) async {
    await untilCancelled(wait, cancelled: {})
}

/// The first value delivered, handed to one waiter whether it arrives before or after it.
private final class FirstOutcome<T: Sendable>: Sendable {
    private struct State {
        var value: T?
        var continuation: CheckedContinuation<T, Never>?
        var resumed = false
    }

    private let state = Mutex(State())

    func deliver(_ value: T) {
        let ready = self.state.withLock { state -> CheckedContinuation<T, Never>? in
            guard state.value == nil, !state.resumed else { return nil }
            state.value = value
            guard let continuation = state.continuation.take() else { return nil }
            state.resumed = true
            return continuation
        }
        ready?.resume(returning: value)
    }

    func await(_ continuation: CheckedContinuation<T, Never>) {
        let value = self.state.withLock { state -> T? in
            guard let value = state.value else {
                state.continuation = continuation
                return nil
            }
            state.resumed = true
            return value
        }
        if let value { continuation.resume(returning: value) }
    }
}
