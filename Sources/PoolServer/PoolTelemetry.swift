// Connects PoolRuntime's observer to swift-log and the pool's metrics: what the pool decided
// becomes a log line an operator can follow and a figure Prometheus can alert on.

import Logging
import PoolRuntime

/// Logs pool events (system `fullpool`) and counts them. Per-call events (retries, calls left
/// unanswered) repeat with load, so their lines are summarised per interval: every one is
/// still counted in the metrics.
public struct PoolTelemetry: PoolObserver {
    let logger: Logger
    let metrics: PoolMetrics
    let repeated: RepeatedLogLines

    public init(logger: Logger, metrics: PoolMetrics) {
        self.init(logger: logger, metrics: metrics, clock: SystemPoolClock(), scheduler: EventLoopScheduler())
    }

    init(logger: Logger, metrics: PoolMetrics, clock: any PoolClock, scheduler: any PoolScheduler) {
        self.logger = logger
        self.metrics = metrics
        self.repeated = RepeatedLogLines(logger: logger, clock: clock, scheduler: scheduler)
    }

    public func nodeStateChanged(node: String, from: NodeState, to: NodeState) {
        let level: Logger.Level = to.isAvailable ? .notice : .warning
        self.logger.log(level: level, "node \(node): \(from) → \(to)")
    }

    public func nodeRestarted(node: String, oldSession: String, newSession: String) {
        self.metrics.nodeRestarted(node: node)
        self.logger.warning("node \(node) restarted: Session \(oldSession) → \(newSession); its channels are closed")
    }

    public func callRetried(method: String, node: String, reason: String) {
        self.metrics.retried(method: method, node: node, reason: reason)
        self.repeated.write(.info, "\(method) retried after \(node): \(reason)")
    }

    public func callFinished(method: String, node: String?, succeeded: Bool) {
        if !succeeded { self.logger.debug("\(method) failed on \(node ?? "no node")") }
    }

    public func callUnanswered(method: String, node: String, detail: String) {
        self.repeated.write(.info, "\(method): no answer from \(node): \(detail)")
    }

    public func requestQuarantined(method: String, node: String, period: Duration) {
        self.metrics.requestQuarantined(method: method)
        self.logger.warning(
            "\(method): \(node) closed its connection after receiving a request another daemon had dropped too; identical requests are refused for \(period)"
        )
    }

    public func quarantinedRequestRefused(method: String) {
        self.metrics.quarantinedRequestRefused(method: method)
    }

    public func unlistedMethod(_ name: String) {
        self.logger.notice("\(name) is in no route table: forwarded as an admin write with the default policy")
    }

    public func channelsClosed(node: String, count: Int, reason: String) {
        self.metrics.channelsClosed(node: node, count: count)
        self.logger.notice("closed \(count) client channel(s) served by \(node): \(reason)")
    }

    public func slowPush(method: String, took: Duration, steps: String) {
        self.logger.notice("\(method) took \(took.goText): \(steps)")
    }

    public func channelsCarriedOver(node: String, count: Int, changes: Int) {
        self.logger.info(
            "\(count) client channel(s) on \(node) went on over a new subscription after its connection dropped (up to \(changes) head change(s) bridged)"
        )
    }

    public func poolDegraded(_ degraded: Bool, detail: String) {
        if degraded {
            self.logger.warning("pool degraded: \(detail)")
        } else {
            self.logger.notice("pool no longer degraded: \(detail)")
        }
    }

    public func hedgeSent(method: String, node: String, delay: Duration) {
        self.metrics.hedgeSent(method: method)
        self.logger.debug("\(method): no answer from \(node) within \(delay.goText); hedged on the next node")
    }

    public func hedgeWon(method: String, node: String) {
        self.metrics.hedgeWon(method: method)
    }

    public func senderMoved(sender: String, to node: String, repushed: Int) {
        self.logger.notice("pushes of \(sender) moved to \(node) after its nonce caught up; re-pushed \(repushed) message(s)")
    }
}
