// How the runtime talks to one daemon. PoolServer implements it over WebSocket; tests fake it.

/// A daemon's answer to one forwarded call.
public enum NodeReply: Sendable, Equatable {
    /// The raw JSON of the `result` member, passed to the client untouched.
    case result([UInt8])
    /// The daemon's error answer.
    case error(code: Int64, message: String)
    /// No answer: whether the request may have reached the daemon, and what happened.
    case unreachable(ErrorClass.NetworkFailure, detail: String)
}

/// What one heartbeat learns from a daemon.
public struct NodeProbe: Sendable, Equatable {
    /// `Session()`: a new value means the daemon restarted.
    public var session: String
    /// What ChainHead, SyncState and NodeStatus(false) reported in the same heartbeat.
    public var health: NodeHealth

    /// A heartbeat's findings: the daemon's `session` UUID and its `health` figures.
    public init(session: String, health: NodeHealth) {
        self.session = session
        self.health = health
    }
}

/// Values from an upstream channel, and its end.
public enum ChannelEvent: Sendable, Equatable {
    /// One `xrpc.ch.val` value, as raw JSON.
    case value([UInt8])
    /// The daemon closed the channel.
    case closed
    /// The connection under the channel dropped; the daemon did not close it. A head channel
    /// may be carried over to a new subscription; any other ends as if closed.
    case interrupted
}

/// A daemon connection lost by itself.
public struct ConnectionLoss: Sendable, Equatable {
    /// What happened, for the log (it may name the daemon's address); never shown to clients.
    public var detail: String
    /// A dial that failed (nothing was connected), as opposed to a socket that closed: no
    /// answer from before it can be the old process's.
    public var dialFailed: Bool

    /// A loss described by `detail`; pass `dialFailed: true` when no socket was ever connected.
    public init(_ detail: String, dialFailed: Bool = false) {
        self.detail = detail
        self.dialFailed = dialFailed
    }
}

/// An open upstream channel.
public protocol NodeChannel: Sendable {
    /// Stops the upstream channel (`xrpc.cancel`); no more events are delivered.
    func cancel() async
}

/// One daemon's API, as the pool needs it.
///
/// Concurrency: implementations are called from many tasks at once.
public protocol NodeConnection: Sendable {
    /// Forwards a call; never throws: every outcome is a `NodeReply`.
    func call(_ call: PoolCall) async -> NodeReply
    /// Forwards a call without a task, when the connection can send it at once from the
    /// calling thread (a server keeps a socket per event loop); `completion` gets the reply
    /// once, on whatever thread it arrives. Returns a handle that gives the call up (its
    /// completion then still runs), or nil when the call cannot start this way: the pool then
    /// uses `call`. The default never starts one.
    func start(_ call: PoolCall, completion: @escaping @Sendable (NodeReply) -> Void) -> (@Sendable () -> Void)?
    /// Opens a channel method (ChainNotify, MpoolSub, …); events go to `events` in order.
    func openChannel(_ call: PoolCall, events: @escaping @Sendable (ChannelEvent) -> Void) async -> Result<any NodeChannel, NodeCallFailure>
    /// Session, ChainHead, SyncState and NodeStatus(false), as one heartbeat.
    func probe() async -> Result<NodeProbe, NodeCallFailure>
    /// `StateLookupID(address, [])`.
    func lookupID(_ address: String) async -> Result<String, NodeCallFailure>
    /// `MpoolGetNonce(address)`: the next nonce this daemon would assign the sender.
    func mpoolNonce(_ address: String) async -> Result<UInt64, NodeCallFailure>
    /// `MpoolPush(signedMessage)` with the signed message's raw JSON.
    func push(signedMessage: [UInt8]) async -> NodeReply
    /// Whether this daemon has seen the message (`StateSearchMsg` answers instead of failing
    /// with "failed to load message").
    func knowsMessage(cid: String) async -> Result<Bool, NodeCallFailure>
    /// `ChainGetTipSet(key)`: the tipset's JSON.
    func tipset(key: [String]) async -> Result<[UInt8], NodeCallFailure>
    /// `ChainGetGenesis` and `StateNetworkName`: which chain the daemon follows.
    func identify() async -> Result<NetworkIdentity, NodeCallFailure>
    /// Registers what to call when the connection is lost by itself (a socket the daemon
    /// closed or that went silent, a dial that failed), never when the pool resets it. The
    /// default never reports: the heartbeat then finds the loss.
    func watchLoss(_ handler: @escaping @Sendable (ConnectionLoss) -> Void)
    /// Drops the connection: calls still waiting on it end as `.unreachable(.maybeSent)` (reads
    /// then retry elsewhere) and its channels close. The pool calls it when the node stops
    /// serving (disabled, paused, exited) or restarted, so nothing stays stuck on a bad daemon.
    func reset() async
}

extension NodeConnection {
    /// Default: keeps no handler and never reports, so only the next heartbeat notices a lost connection.
    public func watchLoss(_ handler: @escaping @Sendable (ConnectionLoss) -> Void) {}

    /// Default: fails with `.unreachable(.notSent)`, so a head channel whose connection drops cannot be carried over.
    public func tipset(key: [String]) async -> Result<[UInt8], NodeCallFailure> {
        .failure(NodeCallFailure(.unreachable(.notSent, detail: "ChainGetTipSet not supported")))
    }

    /// Default: nil, so the pool always sends the call with `call(_:)` from a task.
    public func start(_ call: PoolCall, completion: @escaping @Sendable (NodeReply) -> Void) -> (@Sendable () -> Void)? { nil }
}

/// Reads what the pool must remember of an accepted push from its result.
public protocol PushResultReader: Sendable {
    /// The signed message in a push's result (MpoolPushMessage returns it), or nil.
    func acceptedMessage(inResult result: [UInt8]) -> SignedMessageFacts?
}

/// What the pool keeps of a signed message it saw accepted.
public struct SignedMessageFacts: Sendable, Hashable {
    /// The message's nonce, which orders a sender's pushes and tells the pool where to resume on another node.
    public let nonce: UInt64
    /// The signed message's CID, as MpoolPush answers it; the pool looks it up to learn whether a push arrived.
    public let cid: String
    /// The signed message's JSON, to push again elsewhere unchanged.
    public let json: [UInt8]

    /// Facts read from an accepted signed message; `json` must be the message as the daemon accepted it.
    public init(nonce: UInt64, cid: String, json: [UInt8]) {
        self.nonce = nonce
        self.cid = cid
        self.json = json
    }
}

/// Why a typed call to a daemon failed.
public struct NodeCallFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reply that made the call fail: the daemon's error answer (an answer of the wrong shape is reported as one,
    /// with code 1), or `unreachable` when there was none.
    public let reply: NodeReply

    /// A failure carrying `reply`.
    public init(_ reply: NodeReply) {
        self.reply = reply
    }

    /// The error text with its code, or the connection's detail when there was no answer; for logs and operator output.
    public var description: String {
        switch self.reply {
        case .result: "unexpected result"
        case .error(let code, let message): "RPC error (\(code)): \(message)"
        case .unreachable(_, let detail): detail
        }
    }
}
