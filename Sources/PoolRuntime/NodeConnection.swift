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
    public var health: NodeHealth

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
    public var detail: String
    /// A dial that failed (nothing was connected), as opposed to a socket that closed: no
    /// answer from before it can be the old process's.
    public var dialFailed: Bool

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
    public func watchLoss(_ handler: @escaping @Sendable (ConnectionLoss) -> Void) {}

    public func tipset(key: [String]) async -> Result<[UInt8], NodeCallFailure> {
        .failure(NodeCallFailure(.unreachable(.notSent, detail: "ChainGetTipSet not supported")))
    }

    public func start(_ call: PoolCall, completion: @escaping @Sendable (NodeReply) -> Void) -> (@Sendable () -> Void)? { nil }
}

/// Reads what the pool must remember of an accepted push from its result.
public protocol PushResultReader: Sendable {
    /// The signed message in a push's result (MpoolPushMessage returns it), or nil.
    func acceptedMessage(inResult result: [UInt8]) -> SignedMessageFacts?
}

/// What the pool keeps of a signed message it saw accepted.
public struct SignedMessageFacts: Sendable, Hashable {
    public let nonce: UInt64
    public let cid: String
    /// The signed message's JSON, to push again elsewhere unchanged.
    public let json: [UInt8]

    public init(nonce: UInt64, cid: String, json: [UInt8]) {
        self.nonce = nonce
        self.cid = cid
        self.json = json
    }
}

/// Why a typed call to a daemon failed.
public struct NodeCallFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let reply: NodeReply

    public init(_ reply: NodeReply) {
        self.reply = reply
    }

    public var description: String {
        switch self.reply {
        case .result: "unexpected result"
        case .error(let code, let message): "RPC error (\(code)): \(message)"
        case .unreachable(_, let detail): detail
        }
    }
}
