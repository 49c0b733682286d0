// PoolRuntime's NodeConnection over Lotus's WebSocket JSON-RPC: persistent connections per
// daemon, API version and event loop, redialled when they drop.

import LotusWire
import NIOCore
import NIOPosix
import PoolRuntime
import RouteModel
import Synchronization

/// Which upstream socket a call uses: its API version, and the event loop the caller runs on
/// (a client's calls run on its connection's loop), so that a call is written, answered and
/// resumed on one thread, as an nginx worker keeps a request on one process. Heartbeats and
/// other callers off any loop share the `loop == nil` socket.
struct UpstreamKey: Hashable, Sendable {
    let version: APIVersion
    let loop: ObjectIdentifier?

    /// The key of the calling thread, and its event loop when it is one.
    static func current(_ version: APIVersion) -> (key: UpstreamKey, loop: (any EventLoop)?) {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop
        return (UpstreamKey(version: version, loop: loop.map { ObjectIdentifier($0) }), loop)
    }
}

/// A daemon reached over WebSocket (`ws://host:port/rpc/v0|v1`) with its token.
///
/// Concurrency: all methods may be called from many tasks; connections are shared.
public final class UpstreamConnection: NodeConnection {
    let endpoint: NodeEndpoint
    private let clients = Mutex<[UpstreamKey: LotusWSClient]>([:])
    /// Dials in progress: concurrent callers after a drop share one instead of each opening a socket.
    private let dials = Mutex<[UpstreamKey: Task<Result<LotusWSClient, NodeCallFailure>, Never>]>([:])
    /// After a failed dial, calls fail at once until `retryAt` instead of each dialling a dead
    /// daemon; the delay doubles per failure (100 ms … 5 s) and resets on success.
    /// The failed dial's own text is kept: a call refused during the backoff logs where the
    /// daemon is and what its connection said, as the dial that failed did.
    private let backoff = Mutex<(retryAt: ContinuousClock.Instant, delay: Duration, dialError: String)?>(nil)
    /// When the latest dial that succeeded began: a dial that began before it and fails later
    /// (started while the daemon was down, ended after it came back) starts no backoff, which
    /// would refuse calls to a daemon that answers.
    private let lastGoodDial = Mutex<ContinuousClock.Instant?>(nil)
    /// Told when a socket closes or a dial fails by itself (see `watchLoss`).
    private let lossHandler = Mutex<(@Sendable (ConnectionLoss) -> Void)?>(nil)
    static let firstBackoff = Duration.milliseconds(100)
    static let maxBackoff = Duration.seconds(5)

    /// Every upstream socket is watched, not only the one heartbeats use: a per-loop socket
    /// that went silent fails its calls (retried on other nodes) instead of hanging them.
    let keepalive: WebSocketKeepalive
    /// TLS for a daemon given as `/https` or `/wss`; nil dials plain ws://.
    let tls: TLSDialer?
    /// A ping after 5 s of quiet, as go-jsonrpc's client does; closed after 15 s without a
    /// pong, sooner than go-jsonrpc's 30 s, because a pool has other nodes to retry on.
    public static let defaultKeepalive = WebSocketKeepalive(interval: .seconds(5), timeout: .seconds(15))

    /// The largest answer taken from the daemon; a larger one fails its own call, with an
    /// error naming the limit, and the socket carries every other call on.
    let maxAnswerBytes: Int

    /// A connection to `endpoint`; nothing is dialled until the first call or heartbeat needs a socket.
    public init(
        endpoint: NodeEndpoint, keepalive: WebSocketKeepalive = UpstreamConnection.defaultKeepalive, tls: TLSDialer? = nil,
        maxAnswerBytes: Int = LotusWSClient.maxAnswerBytes
    ) {
        self.endpoint = endpoint
        self.keepalive = keepalive
        self.tls = tls
        self.maxAnswerBytes = maxAnswerBytes
    }

    /// The open connection for `version`, dialling when there is none or it closed.
    ///
    /// - Parameter probing: heartbeats dial whatever the backoff says (one per interval is no
    ///   storm), so a daemon that came back serves again at the next beat.
    func client(_ version: APIVersion, probing: Bool = false) async -> Result<LotusWSClient, NodeCallFailure> {
        let (key, loop) = UpstreamKey.current(version)
        if let client = self.clients.withLock({ $0[key] }), !client.isClosed { return .success(client) }
        if !probing, let waiting = self.backoff.withLock({ $0 }), ContinuousClock.now < waiting.retryAt {
            return .failure(
                NodeCallFailure(
                    .unreachable(
                        .notSent, detail: "\(self.endpoint.name): not connected (redialling after a failed dial: \(waiting.dialError))")))
        }
        let dial = self.dials.withLock { dials in
            if let running = dials[key] { return running }
            let address = self.endpoint.address
            let began = ContinuousClock.now
            let started = Task { () -> Result<LotusWSClient, NodeCallFailure> in
                defer { _ = self.dials.withLock { $0.removeValue(forKey: key) } }
                do {
                    let client = try await LotusWSClient.connect(
                        host: address.host, port: address.port, path: "/rpc/\(version.rawValue)", token: self.endpoint.token,
                        keepalive: self.keepalive, tls: self.tls, group: loop ?? MultiThreadedEventLoopGroup.singleton,
                        maxAnswerBytes: self.maxAnswerBytes)
                    self.clients.withLock { $0[key] = client }
                    self.backoff.withLock { $0 = nil }
                    self.lastGoodDial.withLock { last in last = max(last ?? began, began) }
                    client.whenClosed { [weak client] in
                        // Still registered: the daemon or the keepalive closed it, not `reset`.
                        let lost = self.clients.withLock { clients -> Bool in
                            guard let client, clients[key] === client else { return false }
                            clients[key] = nil
                            return true
                        }
                        if lost { self.reportLoss(ConnectionLoss("connection closed")) }
                    }
                    return .success(client)
                } catch {
                    // Outdated (a later dial got through): the daemon answers; neither a backoff
                    // nor a loss, which would take a daemon that came back out again.
                    let outdated = self.lastGoodDial.withLock { $0.map { $0 > began } ?? false }
                    if !outdated {
                        self.backoff.withLock { backoff in
                            let delay = backoff.map { min($0.delay * 2, Self.maxBackoff) } ?? Self.firstBackoff
                            backoff = (ContinuousClock.now + delay, delay, "\(error)")
                        }
                        self.reportLoss(ConnectionLoss("dial failed: \(error)", dialFailed: true))
                    }
                    return .failure(NodeCallFailure(.unreachable(.notSent, detail: "\(self.endpoint.name): \(error)")))
                }
            }
            dials[key] = started
            return started
        }
        return await dial.value
    }

    /// Replaces any earlier handler; it runs when a registered socket closes without `reset`, or a dial fails.
    public func watchLoss(_ handler: @escaping @Sendable (ConnectionLoss) -> Void) {
        self.lossHandler.withLock { $0 = handler }
    }

    private func reportLoss(_ loss: ConnectionLoss) {
        self.lossHandler.withLock { $0 }?(loss)
    }

    /// Closes every socket (each version and event loop) and forgets them; the next call dials again. No loss is reported.
    ///
    /// The closes are not waited for: the heartbeat resets nodes it gave up on, and one close
    /// of a TLS socket to a frozen daemon waits 5 s for a reply that never comes, one socket
    /// after another (per event loop and API version), while no node is judged.
    public func reset() async {
        let open = self.clients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for client in open { client.closeSoon() }
    }

    /// Calls `method`; a failure to connect means the request never left.
    func rpc(_ method: String, _ params: [JSON], version: APIVersion = .v1, probing: Bool = false) async -> Result<JSON, NodeCallFailure> {
        let client: LotusWSClient
        switch await self.client(version, probing: probing) {
        case .success(let connected): client = connected
        case .failure(let failure): return .failure(failure)
        }
        do {
            return .success(try await client.call(method, params))
        } catch let error as RPCError {
            return .failure(NodeCallFailure(.error(code: error.code, message: error.message)))
        } catch {
            // The request was written; its answer is lost.
            return .failure(NodeCallFailure(.unreachable(.maybeSent, detail: "\(self.endpoint.name): \(error)")))
        }
    }

    /// Sends the client's params byte for byte on the socket of the caller's version and event loop, dialling it when
    /// needed; during a dial backoff it fails at once as `.unreachable(.notSent)`.
    public func call(_ call: PoolCall) async -> NodeReply {
        let client: LotusWSClient
        switch await self.client(call.version) {
        case .success(let connected): client = connected
        case .failure(let failure): return failure.reply
        }
        // The client's params go upstream byte for byte; only the request id is the connection's own.
        let pending = client.start(call.method, rawParams: call.params)
        let answer: Result<[UInt8], any Error>
        do {
            answer = .success(try await pending.rawResult())
        } catch {
            answer = .failure(error)
        }
        return self.reply(answer)
    }

    /// Sends the call on this event loop's open socket (the loop its client's request was read
    /// on), with no task: the reply comes back through `completion` on the same loop. Nil when
    /// not on a loop or that socket is not open yet (`call` dials it).
    public func start(_ call: PoolCall, completion: @escaping @Sendable (NodeReply) -> Void) -> (@Sendable () -> Void)? {
        let (key, loop) = UpstreamKey.current(call.version)
        guard loop != nil, let client = self.clients.withLock({ $0[key] }) else { return nil }
        return client.start(call.method, rawParams: call.params) { answer in completion(self.reply(answer)) }
    }

    /// A daemon's answer as the pool sees it; anything but an error answer means the request
    /// was written and its answer lost.
    private func reply(_ answer: Result<[UInt8], any Error>) -> NodeReply {
        switch answer {
        case .success(let result): .result(result)
        case .failure(let error as RPCError): .error(code: error.code, message: error.message)
        case .failure(LotusClientError.closedAfterRequest):
            .unreachable(.dropped, detail: "\(self.endpoint.name): \(LotusClientError.closedAfterRequest)")
        case .failure(let error as LotusClientError) where error.isAnswerTooLarge:
            // Every daemon's answer would be as large: an error for this call, not a node's fault.
            .error(code: 1, message: "fpool: \(self.endpoint.name)'s answer was not taken: \(error)")
        case .failure(let error): .unreachable(.maybeSent, detail: "\(self.endpoint.name): \(error)")
        }
    }

    /// Subscribes on the caller's socket; `events` gets the values in order, then `.closed` when the daemon closes the
    /// channel or `.interrupted` when the socket drops.
    public func openChannel(_ call: PoolCall, events: @escaping @Sendable (PoolRuntime.ChannelEvent) -> Void) async -> Result<
        any NodeChannel, NodeCallFailure
    > {
        let client: LotusWSClient
        switch await self.client(call.version) {
        case .success(let connected): client = connected
        case .failure(let failure): return .failure(failure)
        }
        let subscription: LotusSubscription
        do {
            subscription = try await client.subscribe(call.method, rawParams: call.params)
        } catch let error as RPCError {
            return .failure(NodeCallFailure(.error(code: error.code, message: error.message)))
        } catch {
            return .failure(NodeCallFailure(.unreachable(.maybeSent, detail: "\(self.endpoint.name): \(error)")))
        }
        let forwarding = Task {
            for await value in subscription.rawValues { events(.value(value)) }
            // Ended with its socket (not by the daemon's xrpc.ch.close): the pool may carry it over.
            events(client.isClosed ? .interrupted : .closed)
        }
        return .success(UpstreamChannel(client: client, requestID: subscription.requestID, forwarding: forwarding))
    }

    /// Session first, dialling despite any backoff (and once more if the socket had just dropped), then ChainHead,
    /// SyncState and NodeStatus(false) at once. Fails when SyncState reports no active sync workers.
    public func probe() async -> Result<NodeProbe, NodeCallFailure> {
        let session: String
        var answer = await self.rpc("Filecoin.Session", [], probing: true)
        // A socket the daemon closed a moment ago (a restart) fails its first call: one fresh
        // dial decides, rather than a node disabled for a whole interval.
        if case .failure(let failure) = answer, case .unreachable(.maybeSent, _) = failure.reply {
            answer = await self.rpc("Filecoin.Session", [], probing: true)
        }
        switch answer {
        case .success(let value):
            guard let text = value.string else { return .failure(NodeCallFailure(.error(code: 1, message: "Session: not a string"))) }
            session = text
        case .failure(let failure): return .failure(failure)
        }
        // The other three at once: a daemon slow to answer each is judged by one round trip,
        // not by four in turn within one interval.
        async let chainHead = self.rpc("Filecoin.ChainHead", [])
        async let syncState = self.rpc("Filecoin.SyncState", [])
        async let nodeStatus = self.rpc("Filecoin.NodeStatus", [false])
        let (headAnswer, syncAnswer, statusAnswer) = await (chainHead, syncState, nodeStatus)
        let head: Int64
        switch headAnswer {
        case .success(let value): head = value["Height"]?.int ?? 0
        case .failure(let failure): return .failure(failure)
        }
        // lotus-miner waits forever on a daemon whose SyncState has no active sync workers.
        switch syncAnswer {
        case .success(let state) where state["ActiveSyncs"]?.array?.isEmpty == false: break
        case .success: return .failure(NodeCallFailure(.error(code: 1, message: "SyncState reports no active sync workers")))
        case .failure(let failure): return .failure(failure)
        }
        switch statusAnswer {
        case .success(let status):
            let health = NodeHealth(
                head: head, behind: UInt64(max(0, status["SyncStatus"]?["Behind"]?.int ?? 0)),
                messagePeers: UInt64(max(0, status["PeerStatus"]?["PeersToPublishMsgs"]?.int ?? 0)),
                blockPeers: UInt64(max(0, status["PeerStatus"]?["PeersToPublishBlocks"]?.int ?? 0)))
            return .success(NodeProbe(session: session, health: health))
        case .failure(let failure): return .failure(failure)
        }
    }

    /// ChainGetGenesis's first CID and StateNetworkName; an answer of the wrong shape fails with code 1.
    public func identify() async -> Result<NetworkIdentity, NodeCallFailure> {
        let genesis: String
        switch await self.rpc("Filecoin.ChainGetGenesis", []) {
        case .success(let tipset):
            guard let cid = tipset["Cids"]?.array?.first?["/"]?.string else {
                return .failure(NodeCallFailure(.error(code: 1, message: "ChainGetGenesis: no Cids in the answer")))
            }
            genesis = cid
        case .failure(let failure): return .failure(failure)
        }
        switch await self.rpc("Filecoin.StateNetworkName", []) {
        case .success(let value):
            guard let name = value.string else {
                return .failure(NodeCallFailure(.error(code: 1, message: "StateNetworkName: not a string")))
            }
            return .success(NetworkIdentity(genesis: genesis, name: name))
        case .failure(let failure): return .failure(failure)
        }
    }

    /// StateLookupID at the daemon's head: the ID address (`f0…`) of `address`.
    public func lookupID(_ address: String) async -> Result<String, NodeCallFailure> {
        await self.rpc("Filecoin.StateLookupID", [.string(address), []]).flatMap { value in
            value.string.map(Result.success) ?? .failure(NodeCallFailure(.error(code: 1, message: "StateLookupID: not an address")))
        }
    }

    /// MpoolGetNonce: the next nonce the daemon would give `address`, its mpool's pending messages included.
    public func mpoolNonce(_ address: String) async -> Result<UInt64, NodeCallFailure> {
        await self.rpc("Filecoin.MpoolGetNonce", [.string(address)]).flatMap { value in
            value.int.map { .success(UInt64(max(0, $0))) }
                ?? .failure(NodeCallFailure(.error(code: 1, message: "MpoolGetNonce: not a number")))
        }
    }

    /// MpoolPush of `signedMessage`, parsed first (a parse failure answers -32700 without sending); the result is the CID.
    public func push(signedMessage: [UInt8]) async -> NodeReply {
        guard let message = try? JSON.parse(signedMessage) else { return .error(code: -32700, message: "signed message is not JSON") }
        switch await self.rpc("Filecoin.MpoolPush", [message]) {
        case .success(let result): return .result(result.encoded())
        case .failure(let failure): return failure.reply
        }
    }

    /// ChainGetTipSet of `key`, answered as the tipset's JSON.
    public func tipset(key: [String]) async -> Result<[UInt8], NodeCallFailure> {
        await self.rpc("Filecoin.ChainGetTipSet", [.array(key.map { ["/": .string($0)] })]).map { $0.encoded() }
    }

    /// StateSearchMsg with no lookback limit: true when it answers (found or not yet on chain), false when the daemon
    /// "failed to load message", a failure otherwise.
    public func knowsMessage(cid: String) async -> Result<Bool, NodeCallFailure> {
        switch await self.rpc("Filecoin.StateSearchMsg", [[], ["/": .string(cid)], -1, true]) {
        case .success: return .success(true)
        case .failure(let failure):
            if case .error(_, let message) = failure.reply, message.contains("failed to load message") { return .success(false) }
            return .failure(failure)
        }
    }
}

/// An upstream channel: cancelling sends `xrpc.cancel` and stops forwarding.
final class UpstreamChannel: NodeChannel {
    let client: LotusWSClient
    let requestID: Int64
    let forwarding: Task<Void, Never>

    init(client: LotusWSClient, requestID: Int64, forwarding: Task<Void, Never>) {
        self.client = client
        self.requestID = requestID
        self.forwarding = forwarding
    }

    func cancel() async {
        self.client.cancel(requestID: self.requestID)
        self.forwarding.cancel()
    }
}
