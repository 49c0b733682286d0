// How the runtime reports what it does; PoolServer connects this to swift-log and metrics.

/// Events worth a log line or a metric. Called synchronously from the runtime, never under its
/// lock: implementations must be quick, and may read the pool.
public protocol PoolObserver: Sendable {
    /// A node changed state (logged once per change, not every heartbeat).
    func nodeStateChanged(node: String, from: NodeState, to: NodeState)
    /// A node's Session changed: the daemon restarted.
    func nodeRestarted(node: String, oldSession: String, newSession: String)
    /// A call is being sent to the next node after `node` failed; `reason` is its class (the
    /// text before the first ':', counted in metrics) and, when the node gave no answer, what
    /// the connection said, for the log.
    func callRetried(method: String, node: String, reason: String)
    /// A call's final outcome.
    func callFinished(method: String, node: String?, succeeded: Bool)
    /// `node` gave no answer and the call ends there, not retried elsewhere. `detail` is what
    /// the connection said (it may name the daemon's address): for the log, never for clients.
    func callUnanswered(method: String, node: String, detail: String)
    /// A method in no route table was forwarded (reported once per name).
    func unlistedMethod(_ name: String)
    /// Channels served by a lost node were closed towards their clients.
    func channelsClosed(node: String, count: Int, reason: String)
    /// Head channels whose connection dropped went on over new subscriptions to the same
    /// daemon; up to `changes` reverts and applies led a client to the new head.
    func channelsCarriedOver(node: String, count: Int, changes: Int)
    /// A push took longer than `PushTrace.slowAfter`; `steps` says where the time went.
    func slowPush(method: String, took: Duration, steps: String)
    /// A sender's pushes moved to another node after its nonce caught up there.
    func senderMoved(sender: String, to node: String, repushed: Int)
    /// No node passes the health checks and reachable nodes serve anyway (true), or a node
    /// passes them again (false). `detail` says which nodes serve and why they failed.
    func poolDegraded(_ degraded: Bool, detail: String)
    /// A read was sent to another node too because its node had not answered within `delay`.
    func hedgeSent(method: String, node: String, delay: Duration)
    /// The hedge's answer came first.
    func hedgeWon(method: String, node: String)
    /// A second daemon (`node`) closed its connection after receiving the same request: the
    /// request is refused for `period` (`RequestQuarantine`).
    func requestQuarantined(method: String, node: String, period: Duration)
    /// A call identical to a quarantined request was refused at once.
    func quarantinedRequestRefused(method: String)
    /// One daemon's answer to a broadcast push (AllWithFirstSucceed): `accepted`, `already in its
    /// mpool`, a refusal or why it did not answer. The client had the first success.
    func broadcastAnswered(method: String, node: String, answer: String)
    /// The pool's chain moved from `from` to `to`, now held by `holders` of the pool's `nodes`
    /// daemons: nodes on `from` no longer serve, and cached answers were dropped.
    func poolNetworkChanged(from: String, to: String, holders: Int, nodes: Int)
}

extension PoolObserver {
    /// Default: ignored, so observers written before this event existed keep compiling.
    public func callUnanswered(method: String, node: String, detail: String) {}
    /// Default: ignored; the state stays readable through `Pool.health`.
    public func poolDegraded(_ degraded: Bool, detail: String) {}
    /// Default: ignored, so observers written before hedging existed keep compiling.
    public func hedgeSent(method: String, node: String, delay: Duration) {}
    /// Default: ignored, so observers written before hedging existed keep compiling.
    public func hedgeWon(method: String, node: String) {}
    /// Default: ignored, so observers written before request quarantine existed keep compiling.
    public func requestQuarantined(method: String, node: String, period: Duration) {}
    /// Default: ignored, so observers written before request quarantine existed keep compiling.
    public func quarantinedRequestRefused(method: String) {}
    /// Default: ignored, so observers written before broadcasts existed keep compiling.
    public func broadcastAnswered(method: String, node: String, answer: String) {}
    /// Default: ignored; the pool's chain stays readable through `Pool.health`.
    public func poolNetworkChanged(from: String, to: String, holders: Int, nodes: Int) {}
}

/// A node event noted under the pool's lock and reported after it is released, so an
/// observer may read the pool without deadlocking.
enum NodeNote: Sendable {
    case changed(node: String, from: NodeState, to: NodeState)
    case restarted(node: String, oldSession: String, newSession: String)
    case degraded(Bool, detail: String)
    case networkChanged(PoolNetwork.Change)

    func report(to observer: any PoolObserver) {
        switch self {
        case .changed(let node, let from, let to): observer.nodeStateChanged(node: node, from: from, to: to)
        case .restarted(let node, let old, let new): observer.nodeRestarted(node: node, oldSession: old, newSession: new)
        case .degraded(let degraded, let detail): observer.poolDegraded(degraded, detail: detail)
        case .networkChanged(let change):
            observer.poolNetworkChanged(
                from: change.from.description, to: change.to.description, holders: change.holders, nodes: change.nodes)
        }
    }
}

/// Reports nothing; the default.
public struct SilentPoolObserver: PoolObserver {
    /// An observer that drops every event; it holds no state.
    public init() {}
    /// Ignored; `Pool.nodes` still shows every node's state.
    public func nodeStateChanged(node: String, from: NodeState, to: NodeState) {}
    /// Ignored; the node's new Session still shows in `Pool.nodes`.
    public func nodeRestarted(node: String, oldSession: String, newSession: String) {}
    /// Ignored: retries go unlogged and uncounted.
    public func callRetried(method: String, node: String, reason: String) {}
    /// Ignored: outcomes go unlogged and uncounted.
    public func callFinished(method: String, node: String?, succeeded: Bool) {}
    /// Ignored: unlisted methods are still forwarded, only not reported.
    public func unlistedMethod(_ name: String) {}
    /// Ignored: the channels are closed towards their clients all the same.
    public func channelsClosed(node: String, count: Int, reason: String) {}
    /// Ignored: the sender moves all the same.
    public func senderMoved(sender: String, to node: String, repushed: Int) {}
    /// Ignored: the carry-over happens all the same.
    public func channelsCarriedOver(node: String, count: Int, changes: Int) {}
    /// Ignored: slow pushes go unlogged.
    public func slowPush(method: String, took: Duration, steps: String) {}
    /// Ignored: each daemon's answer to a broadcast goes unlogged.
    public func broadcastAnswered(method: String, node: String, answer: String) {}
    /// Default: ignored; the pool's chain stays readable through `Pool.health`.
    public func poolNetworkChanged(from: String, to: String, holders: Int, nodes: Int) {}
}
