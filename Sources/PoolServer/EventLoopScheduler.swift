// The pool's hedge timers and attempt tasks on the event loop that serves the call: no task per
// read for a timer, and an attempt uses that loop's socket to its daemon.

import NIOCore
import NIOPosix
import PoolRuntime

/// Schedules on the calling thread's event loop (any loop of the group when called elsewhere).
struct EventLoopScheduler: PoolScheduler {
    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let scheduled = Self.loop.scheduleTask(in: TimeAmount(delay)) { body() }
        return { scheduled.cancel() }
    }

    func task(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        Task(executorPreference: EventLoopTaskExecutor(eventLoop: Self.loop)) { await work() }
    }

    private static var loop: any EventLoop {
        MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
    }
}
