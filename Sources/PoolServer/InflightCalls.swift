// Counts client calls in progress, so a graceful shutdown can wait for them to be answered.

import Synchronization

final class InflightCalls: Sendable {
    private struct State {
        var count = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func enter() { self.state.withLock { $0.count += 1 } }

    func leave() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count -= 1
            guard state.count == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    var count: Int { self.state.withLock { $0.count } }

    /// Returns once no call is in progress.
    func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let idle = self.state.withLock { state -> Bool in
                if state.count == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Runs `body` counted as one call.
    func tracking<T: Sendable>(_ body: () async -> T) async -> T {
        self.enter()
        defer { self.leave() }
        return await body()
    }
}
