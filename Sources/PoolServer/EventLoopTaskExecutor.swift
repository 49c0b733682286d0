// Runs a client's calls on its connection's event loop: the request is read there, routed
// there and answered there, so a call costs two thread hops (to the daemon's connection and
// back) instead of one per await.

import NIOCore

/// A `TaskExecutor` over one NIO event loop.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
