// Where the pool's own work runs: timers for work without a task (a hedge on the immediate
// path), and the tasks of a hedged call's attempts. A server gives its event loops, so an
// attempt uses the socket of the loop its client is served on; embedders without one get
// plain tasks sleeping on the pool's clock.

/// Runs the pool's timers and attempt tasks.
public protocol PoolScheduler: Sendable {
    /// Runs `body` once after `delay`, unless the returned handle cancels it first. Called from
    /// the thread that starts a call; `body` may run on any thread.
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> @Sendable () -> Void
    /// Starts `work` as a task of its own where the calling thread's work runs (the caller's
    /// event loop, for a server), so it is not tied to the caller's lifetime.
    func task(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never>
}

/// Timers as tasks sleeping on a `PoolClock`, attempts as plain tasks (tests drive the clock).
struct ClockScheduler: PoolScheduler {
    let clock: any PoolClock

    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let task = Task {
            guard (try? await self.clock.sleep(for: delay)) != nil else { return }
            body()
        }
        return { task.cancel() }
    }

    func task(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        Task { await work() }
    }
}
