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

    /// Logs to `logger` (the `fullpool` system) and counts in `metrics`; repeated lines are summarised every 10 s by a
    /// timer on the shared event loop group.
    public init(logger: Logger, metrics: PoolMetrics) {
        self.init(logger: logger, metrics: metrics, clock: SystemPoolClock(), scheduler: EventLoopScheduler())
    }

    init(logger: Logger, metrics: PoolMetrics, clock: any PoolClock, scheduler: any PoolScheduler) {
        self.logger = logger
        self.metrics = metrics
        self.repeated = RepeatedLogLines(logger: logger, clock: clock, scheduler: scheduler)
    }

    /// Logs the change: `notice` when the node becomes available again, `warning` otherwise.
    public func nodeStateChanged(node: String, from: NodeState, to: NodeState) {
        let level: Logger.Level = to.isAvailable ? .notice : .warning
        self.logger.log(level: level, "node \(node): \(from) → \(to)")
    }

    /// Counts `fpool_node_restarts_total` and logs a warning with both Session UUIDs.
    public func nodeRestarted(node: String, oldSession: String, newSession: String) {
        self.metrics.nodeRestarted(node: node)
        self.logger.warning("node \(node) restarted: Session \(oldSession) → \(newSession); its channels are closed")
    }

    /// Counts `fpool_retries_total` by the reason's class and logs at `info`, summarised while the same line repeats.
    public func callRetried(method: String, node: String, reason: String) {
        self.metrics.retried(method: method, node: node, reason: reason)
        self.repeated.write(.info, "\(method) retried after \(node): \(reason)")
    }

    /// Logs failures at `debug` only; call counts and latencies come from the server, which sees every answer.
    public func callFinished(method: String, node: String?, succeeded: Bool) {
        if !succeeded { self.logger.debug("\(method) failed on \(node ?? "no node")") }
    }

    /// Logs at `info`, summarised while the same line repeats; `detail` stays in the log, never in client answers.
    public func callUnanswered(method: String, node: String, detail: String) {
        self.repeated.write(.info, "\(method): no answer from \(node): \(detail)")
    }

    /// Counts `fpool_requests_quarantined_total` and logs a warning naming the quarantine period.
    public func requestQuarantined(method: String, node: String, period: Duration) {
        self.metrics.requestQuarantined(method: method)
        self.logger.warning(
            "\(method): \(node) closed its connection after receiving a request another daemon had dropped too; identical requests are refused for \(period)"
        )
    }

    /// Counts `fpool_quarantine_refusals_total`; no log line: the quarantine was logged when it began.
    public func quarantinedRequestRefused(method: String) {
        self.metrics.quarantinedRequestRefused(method: method)
    }

    /// Logs a notice, once per method name (the pool reports each name once).
    public func unlistedMethod(_ name: String) {
        self.logger.notice("\(name) is in no route table: forwarded as an admin write with the default policy")
    }

    /// Counts `fpool_channels_closed_total` by `count` and logs a notice with the reason.
    public func channelsClosed(node: String, count: Int, reason: String) {
        self.metrics.channelsClosed(node: node, count: count)
        self.logger.notice("closed \(count) client channel(s) served by \(node): \(reason)")
    }

    /// Logs a notice with the time taken and the push's steps.
    public func slowPush(method: String, took: Duration, steps: String) {
        self.logger.notice("\(method) took \(took.goText): \(steps)")
    }

    /// Logs at `info`: the clients noticed nothing, so it is not worth a notice.
    public func channelsCarriedOver(node: String, count: Int, changes: Int) {
        self.logger.info(
            "\(count) client channel(s) on \(node) went on over a new subscription after its connection dropped (up to \(changes) head change(s) bridged)"
        )
    }

    /// Logs a warning when the pool becomes degraded and a notice when it recovers; `fpool_pool_degraded` shows it too.
    public func poolDegraded(_ degraded: Bool, detail: String) {
        if degraded {
            self.logger.warning("pool degraded: \(detail)")
        } else {
            self.logger.notice("pool no longer degraded: \(detail)")
        }
    }

    /// Counts `fpool_hedges_sent_total` and logs at `debug` (hedges are routine under load).
    public func hedgeSent(method: String, node: String, delay: Duration) {
        self.metrics.hedgeSent(method: method)
        self.logger.debug("\(method): no answer from \(node) within \(delay.goText); hedged on the next node")
    }

    /// Counts `fpool_hedges_won_total`; compared with hedges sent, it says whether hedging pays.
    public func hedgeWon(method: String, node: String) {
        self.metrics.hedgeWon(method: method)
    }

    /// Logs each daemon's answer to a broadcast push: info when it took the message, a warning when not.
    public func broadcastAnswered(method: String, node: String, answer: String) {
        let line: Logger.Message = "broadcast \(method) to \(node): \(answer)"
        if answer == "accepted" || answer == "already in its mpool" { self.logger.info(line) } else { self.logger.warning(line) }
    }

    /// Logs an error: daemons of the pool disagree on the chain, which is an operator's mistake.
    public func poolNetworkChanged(from: String, to: String, holders: Int, nodes: Int) {
        self.logger.error(
            "pool network moved from \(from) to \(to), the chain of \(holders) of \(nodes) daemons; daemons on \(from) no longer serve (set FPOOL_NETWORK to fix the pool's chain)"
        )
    }

    /// Logs a notice naming the sender, its new node and how many messages were pushed again there.
    public func senderMoved(sender: String, to node: String, repushed: Int) {
        self.logger.notice("pushes of \(sender) moved to \(node) after its nonce caught up; re-pushed \(repushed) message(s)")
    }
}
