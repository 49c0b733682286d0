// The pool's Prometheus metrics (`/metrics`): calls, errors, retries by reason, latency per
// method and node, node health and open channels. Recorded through swift-metrics into a
// registry of this server's own, so several pools in one process (tests) never mix figures.

import CoreMetrics
import GeneratedRoutes
import Synchronization
import PoolRuntime
import RouteModel
import Prometheus

/// Metrics of one pool server.
///
/// Concurrency: every method may be called from any task (the registry synchronises).
public final class PoolMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let callSeries = Mutex<[CallSeries: CallHandles]>([:])
    /// Retries per node, for `fpool top`.
    let retries = RetryTally()
    /// The cache's counts already added to their Prometheus counters, by label and method: the
    /// pool counts under its cache lock, and each scrape adds what grew since the last.
    private let reportedCache = Mutex<[String: UInt64]>([:])

    /// An empty registry of this server's own (nothing global), with call-duration buckets from 100 µs to 30 s.
    public init() {
        var factory = PrometheusMetricsFactory(registry: self.registry)
        // Proxy latency lives in the sub-millisecond range: buckets from 100 µs.
        factory.durationHistogramBuckets["fpool_call_duration_seconds"] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(5), .seconds(30),
        ]
        self.factory = factory
    }

    /// One client call answered: its route (nil: a method in no table), the node that
    /// answered, its outcome and how long it took. Node names come from `pool` the first time.
    func callAnswered(route: RouteID?, node: Int?, outcome: CallOutcome, duration: Duration, pool: Pool) {
        let key = CallSeries(route: route, node: node ?? -1, outcome: outcome)
        let series = self.callSeries.withLock { $0[key] } ?? self.makeSeries(key, pool: pool)
        series.calls.increment()
        series.errors?.increment()
        series.count.increment()
        series.duration.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// The handles of one (route, node, outcome), made once: looking them up in the registry
    /// on every call cost more than the lookup of the route; the key is three small values,
    /// so finding them costs no string hashing either.
    private func makeSeries(_ key: CallSeries, pool: Pool) -> CallHandles {
        // Unlisted names come from clients: one label for all of them keeps the series bounded.
        let method = key.route?.route.name ?? "unlisted"
        let node = pool.nodeName(key.node) ?? "none"
        let outcome = key.outcome.rawValue
        let handles = CallHandles(
            calls: Counter(label: "fpool_calls_total", dimensions: [("method", method), ("outcome", outcome)], factory: self.factory),
            errors: key.outcome == .ok
                ? nil
                : Counter(label: "fpool_call_errors_total", dimensions: [("method", method), ("outcome", outcome)], factory: self.factory),
            duration: CoreMetrics.Timer(
                label: "fpool_call_duration_seconds", dimensions: [("method", method), ("node", node)], factory: self.factory),
            count: CallCount())
        self.callSeries.withLock { $0[key] = handles }
        return handles
    }

    /// How a client call ended, as the `outcome` label says it.
    enum CallOutcome: String, Sendable {
        /// A result.
        case ok
        /// The daemon's error answer.
        case error
        /// No daemon answered (fpool's own error).
        case failed
    }

    /// Nodes keep their index and name for the pool's life, so an index names a series.
    struct CallSeries: Hashable, Sendable {
        let route: RouteID?
        let node: Int
        let outcome: CallOutcome
    }

    struct CallHandles: Sendable {
        let calls: CoreMetrics.Counter
        let errors: CoreMetrics.Counter?
        let duration: CoreMetrics.Timer
        /// The same calls, readable (`totals`).
        let count: CallCount
    }

    /// Answered calls so far by node and by method, read from the series (`fpool top`).
    var totals: CallTotals {
        let series = self.callSeries.withLock { $0 }
        var totals = CallTotals()
        for (key, handles) in series {
            let calls = handles.count.current
            let errors = key.outcome == .ok ? 0 : calls
            let method = key.route?.route.name ?? "unlisted"
            totals.byNode[key.node, default: (0, 0)].calls += calls
            totals.byNode[key.node, default: (0, 0)].errors += errors
            totals.byMethod[method, default: (0, 0)].calls += calls
            totals.byMethod[method, default: (0, 0)].errors += errors
        }
        return totals
    }

    /// Adds to the counter `label` (by method; "" for none) what each count grew since the last scrape.
    private func report(_ counts: [String: UInt64], as label: String) {
        let growth = self.reportedCache.withLock { reported in
            counts.compactMap { method, count -> (String, UInt64)? in
                let key = label + "|" + method
                let before = reported[key] ?? 0
                reported[key] = count
                return count > before ? (method, count - before) : nil
            }
        }
        for (method, grown) in growth {
            let dimensions = method.isEmpty ? [] : [("method", method)]
            Counter(label: label, dimensions: dimensions, factory: self.factory).increment(by: Int64(grown))
        }
    }

    /// The `method` label of an event the pool reports by wire name (`Filecoin.ChainHead`): the
    /// route's name, as `fpool_calls_total` has it, and "unlisted" for a name in no table. An
    /// admin may send any name; one label for all of them keeps the series bounded.
    static func methodLabel(_ wireName: String) -> String {
        guard wireName.hasPrefix(RouteEntry.wirePrefix) else { return "unlisted" }
        let name = String(wireName.dropFirst(RouteEntry.wirePrefix.count))
        return (RouteTable.lookup(.v1, name: name) ?? RouteTable.lookup(.v0, name: name))?.route.name ?? "unlisted"
    }

    func retried(method: String, node: String, reason: String) {
        // The reason's class (before any detail) keeps the label set small.
        let kind = reason.split(separator: ":", maxSplits: 1).first.map(String.init) ?? reason
        self.retries.record(node: node)
        Counter(
            label: "fpool_retries_total", dimensions: [("method", Self.methodLabel(method)), ("node", node), ("reason", kind)],
            factory: self.factory
        )
        .increment()
    }

    func nodeRestarted(node: String) {
        Counter(label: "fpool_node_restarts_total", dimensions: [("node", node)], factory: self.factory).increment()
    }

    func channelsClosed(node: String, count: Int) {
        Counter(label: "fpool_channels_closed_total", dimensions: [("node", node)], factory: self.factory).increment(by: count)
    }

    func requestQuarantined(method: String) {
        Counter(label: "fpool_requests_quarantined_total", dimensions: [("method", Self.methodLabel(method))], factory: self.factory)
            .increment()
    }

    func quarantinedRequestRefused(method: String) {
        Counter(label: "fpool_quarantine_refusals_total", dimensions: [("method", Self.methodLabel(method))], factory: self.factory)
            .increment()
    }

    func hedgeSent(method: String) {
        Counter(label: "fpool_hedges_sent_total", dimensions: [("method", Self.methodLabel(method))], factory: self.factory).increment()
    }

    func hedgeWon(method: String) {
        Counter(label: "fpool_hedges_won_total", dimensions: [("method", Self.methodLabel(method))], factory: self.factory).increment()
    }

    /// A client connection refused at the cap on client connections (or a request on a
    /// reserve connection that is not for /healthz, /metrics or an admin).
    func clientConnectionRefused() {
        Counter(label: "fpool_client_connections_refused_total", factory: self.factory).increment()
    }

    /// An idle client connection closed to make room for a new one at the cap.
    func clientConnectionEvicted() {
        Counter(label: "fpool_client_connections_evicted_total", factory: self.factory).increment()
    }

    /// A request body refused because all unfinished bodies together were over their budget.
    func requestBodyRefused() {
        Counter(label: "fpool_request_bodies_refused_total", factory: self.factory).increment()
    }

    /// A client request not received within its deadline (answered 408).
    func clientRequestTimedOut() {
        Counter(label: "fpool_client_request_timeouts_total", factory: self.factory).increment()
    }

    /// What the clients hold now, for the scrape's gauges.
    struct ClientFigures {
        var connections: Int
        /// Bytes of requests held (unfinished, or waiting for their answer), call state included.
        var requestBytesHeld: Int
        /// Websocket answers waiting, unframed, for clients over their write bound.
        var answersWaiting: Int
    }

    /// The Prometheus text for a scrape, with the node gauges read from the pool now.
    func scrape(_ pool: Pool, clients: ClientFigures) -> [UInt8] {
        let channels = pool.openChannels
        let health = pool.health
        Gauge(label: "fpool_pool_degraded", factory: self.factory).record(health.degraded ? 1 : 0)
        Gauge(label: "fpool_serving_nodes", factory: self.factory).record(Double(health.serving))
        for node in pool.nodes {
            let labels = [("node", node.name)]
            Gauge(label: "fpool_node_up", dimensions: labels, factory: self.factory).record(node.state.isAvailable ? 1 : 0)
            Gauge(label: "fpool_node_serving", dimensions: labels, factory: self.factory).record(node.serving ? 1 : 0)
            Gauge(label: "fpool_node_head", dimensions: labels, factory: self.factory).record(Double(node.health?.head ?? 0))
            Gauge(label: "fpool_node_behind", dimensions: labels, factory: self.factory).record(Double(node.health?.behind ?? 0))
            Gauge(label: "fpool_node_message_peers", dimensions: labels, factory: self.factory)
                .record(Double(node.health?.messagePeers ?? 0))
            Gauge(label: "fpool_node_block_peers", dimensions: labels, factory: self.factory).record(Double(node.health?.blockPeers ?? 0))
            Gauge(label: "fpool_node_calls", dimensions: labels, factory: self.factory).record(Double(node.calls))
            Gauge(label: "fpool_open_channels", dimensions: labels, factory: self.factory).record(Double(channels[node.index] ?? 0))
        }
        Gauge(label: "fpool_client_connections", factory: self.factory).record(Double(clients.connections))
        Gauge(label: "fpool_request_bytes_held", factory: self.factory).record(Double(clients.requestBytesHeld))
        Gauge(label: "fpool_websocket_answers_waiting", factory: self.factory).record(Double(clients.answersWaiting))
        let cache = pool.cacheFigures
        Gauge(label: "fpool_cache_bytes", factory: self.factory).record(Double(cache.bytes))
        Gauge(label: "fpool_cache_entries", factory: self.factory).record(Double(cache.entries))
        self.report(cache.hits, as: "fpool_cache_hits_total")
        self.report(cache.misses, as: "fpool_cache_misses_total")
        self.report(["": cache.evictions], as: "fpool_cache_evictions_total")
        self.report(pool.coalescedReads, as: "fpool_coalesced_total")
        return self.registry.emitToBuffer()
    }
}
