// Where the pool's own work runs: timers for work without a task (a hedge on the immediate
// path), and the tasks of a hedged call's attempts. A server gives its event loops, so an
// attempt uses the socket of the loop its client is served on; embedders without one get
// plain tasks sleeping on the pool's clock.

/// Something the pool may call off: a timer, a task, a call on its way. A handle rather than a
/// closure: the object that is called off is usually the handle itself, so giving one out
/// costs no allocation (a forwarded read hands out several).
public protocol PoolCancellable: Sendable {
    func cancel()
}

/// A handle with nothing to call off.
public struct NothingToCancel: PoolCancellable {
    public init() {}
    public func cancel() {}
}

/// A task as a handle.
public struct TaskCancellation: PoolCancellable {
    let task: Task<Void, Never>

    public init(_ task: Task<Void, Never>) {
        self.task = task
    }

    public func cancel() { self.task.cancel() }
}

/// An object a timer calls once its delay has passed. The target itself knows whether it is
/// still wanted (a read answered before its hedge was due ignores the call), so arming it needs
/// neither a closure nor, usually, a handle to cancel: every forwarded read arms one.
public protocol PoolTimerTarget: AnyObject, Sendable {
    func timerFired()
}

/// Runs the pool's timers and attempt tasks.
public protocol PoolScheduler: Sendable {
    /// Runs `body` once after `delay`, unless the returned handle cancels it first. Called from
    /// the thread that starts a call; `body` may run on any thread.
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> any PoolCancellable
    /// Calls `target.timerFired()` once after `delay`, on any thread. nil when nothing is to be
    /// cancelled: the scheduler then holds `target` until the delay has passed, so it may call
    /// an unwanted target, which ignores it. A handle when the timer should be cancelled once
    /// unwanted, to free what it holds (a long delay, or a scheduler of closures).
    func schedule(after delay: Duration, firing target: any PoolTimerTarget) -> (any PoolCancellable)?
    /// Starts `work` as a task of its own where the calling thread's work runs (the caller's
    /// event loop, for a server), so it is not tied to the caller's lifetime.
    func task(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never>
}

extension PoolScheduler {
    /// A closure timer calling the target, cancellable as any other.
    public func schedule(after delay: Duration, firing target: any PoolTimerTarget) -> (any PoolCancellable)? {
        self.schedule(after: delay) { target.timerFired() }
    }
}

/// Timers as tasks sleeping on a `PoolClock`, attempts as plain tasks (tests drive the clock).
struct ClockScheduler: PoolScheduler {
    let clock: any PoolClock

    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> any PoolCancellable {
        TaskCancellation(
            Task {
                guard (try? await self.clock.sleep(for: delay)) != nil else { return }
                body()
            })
    }

    func task(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        Task { await work() }
    }
}
