// The pool's hedge timers and attempt tasks on the event loop that serves the call: no task per
// read for a timer, and an attempt uses that loop's socket to its daemon.

import NIOCore
import NIOPosix
import PoolRuntime

/// Schedules on the calling thread's event loop (any loop of the group when called elsewhere).
struct EventLoopScheduler: PoolScheduler {
    /// On an event loop, a slot of that loop's timer wheel: NIO's own timers cost far more to
    /// cancel (see `LoopTimerWheel`), and a task's promise, before that, cost about 5 µs per
    /// forwarded call.
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> any PoolCancellable {
        // On the wheel, cancelling the closure's timer drops its body at once.
        let timer = WheelTimer(body)
        return self.schedule(after: delay, firing: timer) ?? timer
    }

    /// On an event loop, the target itself in a slot of the loop's wheel: nothing allocated and
    /// nothing to cancel. Beyond the wheel's horizon, or off the loops, a NIO timer that is
    /// cancelled once unwanted, so a long delay does not hold the target for its whole length.
    func schedule(after delay: Duration, firing target: any PoolTimerTarget) -> (any PoolCancellable)? {
        let amount = TimeAmount(delay)
        if let wheel = LoopTimerWheel.ofCurrentLoop(), wheel.arm(target, after: amount) { return nil }
        // A loop shutting down refuses it: the call then goes without a hedge.
        guard let callback = try? Self.loop.scheduleCallback(in: amount, handler: TargetTimer(target: target)) else { return NothingToCancel() }
        return NIOTimer(callback: callback)
    }

    private struct TargetTimer: NIOScheduledCallbackHandler, Sendable {
        let target: any PoolTimerTarget

        func handleScheduledCallback(eventLoop: some EventLoop) { self.target.timerFired() }
    }

    private struct NIOTimer: PoolCancellable {
        let callback: NIOScheduledCallback

        func cancel() { self.callback.cancel() }
    }

    func task(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        Task(executorPreference: EventLoopTaskExecutor(eventLoop: Self.loop)) { await work() }
    }

    private static var loop: any EventLoop {
        MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
    }
}
