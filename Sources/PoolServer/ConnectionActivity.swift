// Whether a client connection is busy (a call being answered, a channel open), so the idle
// timeout closes only connections that are truly idle, never one waiting for its answer.

import NIOCore
import Synchronization

final class ConnectionActivity: Sendable {
    private let busy = Atomic<Int>(0)

    func enter() { self.busy.add(1, ordering: .relaxed) }
    func leave() { self.busy.subtract(1, ordering: .relaxed) }
    var isIdle: Bool { self.busy.load(ordering: .relaxed) <= 0 }
}

/// Closes a connection on which nothing was read for the configured time, unless it is busy.
final class IdleCloser: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    let activity: ConnectionActivity

    init(activity: ConnectionActivity) {
        self.activity = activity
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if self.activity.isIdle { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
