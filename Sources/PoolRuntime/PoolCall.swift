// A client call as the runtime sees it: the route, the raw params, and the few decoded facts.

import GeneratedRoutes
import RouteModel

/// Values the server decoded from the params because routing needs them; everything else
/// stays raw bytes.
public struct CallFacts: Sendable, Hashable {
    /// The sender address found by the route's seed locator.
    public var sender: String?
    /// The chain height an Epoch param names (tipset-aware routing).
    public var height: Int64?
    /// For a push of an already signed message (MpoolPush): the message itself.
    public var signedMessage: SignedMessageFacts?
    /// The seed of the caller's token: OneBySeedRound then prefers that miner's primary (rendezvous hashing of the
    /// seed over the nodes) rather than the pool's PrimarySeed.
    public var clientSeed: MinerSeed?
    /// Every TipSetKey param names a tipset (none is empty, which means "the head"): a `cache=`
    /// method's answer is then fixed, and may be cached.
    public var fixedTipsets: Bool = false

    /// Facts for a call; leave a fact nil when the route does not need it or the params do not hold it.
    public init(sender: String? = nil, height: Int64? = nil, signedMessage: SignedMessageFacts? = nil, clientSeed: MinerSeed? = nil) {
        self.sender = sender
        self.height = height
        self.signedMessage = signedMessage
        self.clientSeed = clientSeed
    }
}

/// One call to route.
public struct PoolCall: Sendable {
    /// nil for a method in no table (forwarded anyway, as an admin write).
    public let id: RouteID?
    /// The wire name, `Filecoin.ChainHead`.
    public let method: String
    /// The API the client called (`/rpc/v0` or `/rpc/v1`); the call goes upstream on the same version.
    public let version: APIVersion
    /// The JSON params array, exactly as the client sent it.
    public let params: [UInt8]
    /// What the server decoded from `params` for routing: sender, epoch, signed message.
    public let facts: CallFacts
    /// The API call id already counted for this call (it tried `Pool.startImmediately` first).
    var reservedCallID: UInt64?

    /// A call as the server read it; `method` keeps the client's wire name even for a method in no table.
    public init(id: RouteID?, method: String, version: APIVersion, params: [UInt8], facts: CallFacts = CallFacts()) {
        self.id = id
        self.method = method
        self.version = version
        self.params = params
        self.facts = facts
    }

    /// The route's facts (the unlisted-method route for unknown names).
    public var route: RouteEntry {
        self.id?.route
            ?? RouteEntry.unlisted(
                name: String(self.method.dropFirst(self.method.hasPrefix(RouteEntry.wirePrefix) ? RouteEntry.wirePrefix.count : 0)))
    }
}

/// The runtime's answer to a call.
public enum PoolReply: Sendable, Equatable {
    /// A daemon's result (raw JSON) and which node gave it.
    case result([UInt8], node: Int)
    /// A daemon's error answer, passed through with its code.
    case error(code: Int64, message: String, node: Int?)
    /// The pool could not serve the call (no node, timeout): code 1 and the reason, as Lotus
    /// clients see server-side failures.
    case failed(String)
}
