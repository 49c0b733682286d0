// PoolRuntime's NodeConnection over Lotus's WebSocket JSON-RPC: one persistent connection per
// daemon and API version, redialled when it drops.

import LotusWire
import PoolRuntime
import RouteModel
import Synchronization

/// A daemon reached over WebSocket (`ws://host:port/rpc/v0|v1`) with its token.
///
/// Concurrency: all methods may be called from many tasks; connections are shared.
public final class UpstreamConnection: NodeConnection {
    let endpoint: NodeEndpoint
    private let clients = Mutex<[APIVersion: LotusWSClient]>([:])
    /// Dials in progress: concurrent callers after a drop share one instead of each opening a socket.
    private let dials = Mutex<[APIVersion: Task<Result<LotusWSClient, NodeCallFailure>, Never>]>([:])

    public init(endpoint: NodeEndpoint) {
        self.endpoint = endpoint
    }

    /// The open connection for `version`, dialling when there is none or it closed.
    func client(_ version: APIVersion) async -> Result<LotusWSClient, NodeCallFailure> {
        if let client = self.clients.withLock({ $0[version] }), !client.isClosed { return .success(client) }
        let dial = self.dials.withLock { dials in
            if let running = dials[version] { return running }
            let address = self.endpoint.address
            let started = Task { () -> Result<LotusWSClient, NodeCallFailure> in
                defer { _ = self.dials.withLock { $0.removeValue(forKey: version) } }
                do {
                    let client = try await LotusWSClient.connect(
                        host: address.host, port: address.port, path: "/rpc/\(version.rawValue)", token: self.endpoint.token)
                    self.clients.withLock { $0[version] = client }
                    return .success(client)
                } catch {
                    return .failure(NodeCallFailure(.unreachable(.notSent, detail: "\(self.endpoint.name): \(error)")))
                }
            }
            dials[version] = started
            return started
        }
        return await dial.value
    }

    public func reset() async {
        let open = self.clients.withLock { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for client in open { await client.close() }
    }

    /// Calls `method`; a failure to connect means the request never left.
    func rpc(_ method: String, _ params: [JSON], version: APIVersion = .v1) async -> Result<JSON, NodeCallFailure> {
        let client: LotusWSClient
        switch await self.client(version) {
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

    public func call(_ call: PoolCall) async -> NodeReply {
        guard let params = (try? JSON.parse(call.params))?.array else {
            return .error(code: -32700, message: "unmarshaling params for '\(call.method)': not a JSON array")
        }
        switch await self.rpc(call.method, params, version: call.version) {
        case .success(let result): return .result(result.encoded())
        case .failure(let failure): return failure.reply
        }
    }

    public func openChannel(_ call: PoolCall, events: @escaping @Sendable (ChannelEvent) -> Void) async -> Result<
        any NodeChannel, NodeCallFailure
    > {
        guard let params = (try? JSON.parse(call.params))?.array else {
            return .failure(NodeCallFailure(.error(code: -32700, message: "unmarshaling params for '\(call.method)': not a JSON array")))
        }
        let client: LotusWSClient
        switch await self.client(call.version) {
        case .success(let connected): client = connected
        case .failure(let failure): return .failure(failure)
        }
        let subscription: LotusSubscription
        do {
            subscription = try await client.subscribe(call.method, params)
        } catch let error as RPCError {
            return .failure(NodeCallFailure(.error(code: error.code, message: error.message)))
        } catch {
            return .failure(NodeCallFailure(.unreachable(.maybeSent, detail: "\(self.endpoint.name): \(error)")))
        }
        let forwarding = Task {
            for await value in subscription.values { events(.value(value.encoded())) }
            events(.closed)
        }
        return .success(UpstreamChannel(client: client, requestID: subscription.requestID, forwarding: forwarding))
    }

    public func probe() async -> Result<NodeProbe, NodeCallFailure> {
        let session: String
        switch await self.rpc("Filecoin.Session", []) {
        case .success(let value):
            guard let text = value.string else { return .failure(NodeCallFailure(.error(code: 1, message: "Session: not a string"))) }
            session = text
        case .failure(let failure): return .failure(failure)
        }
        let head: Int64
        switch await self.rpc("Filecoin.ChainHead", []) {
        case .success(let value): head = value["Height"]?.int ?? 0
        case .failure(let failure): return .failure(failure)
        }
        // lotus-miner waits forever on a daemon whose SyncState has no active sync workers.
        switch await self.rpc("Filecoin.SyncState", []) {
        case .success(let state) where state["ActiveSyncs"]?.array?.isEmpty == false: break
        case .success: return .failure(NodeCallFailure(.error(code: 1, message: "SyncState reports no active sync workers")))
        case .failure(let failure): return .failure(failure)
        }
        switch await self.rpc("Filecoin.NodeStatus", [false]) {
        case .success(let status):
            let health = NodeHealth(
                head: head, behind: UInt64(max(0, status["SyncStatus"]?["Behind"]?.int ?? 0)),
                messagePeers: UInt64(max(0, status["PeerStatus"]?["PeersToPublishMsgs"]?.int ?? 0)),
                blockPeers: UInt64(max(0, status["PeerStatus"]?["PeersToPublishBlocks"]?.int ?? 0)))
            return .success(NodeProbe(session: session, health: health))
        case .failure(let failure): return .failure(failure)
        }
    }

    public func lookupID(_ address: String) async -> Result<String, NodeCallFailure> {
        await self.rpc("Filecoin.StateLookupID", [.string(address), []]).flatMap { value in
            value.string.map(Result.success) ?? .failure(NodeCallFailure(.error(code: 1, message: "StateLookupID: not an address")))
        }
    }

    public func mpoolNonce(_ address: String) async -> Result<UInt64, NodeCallFailure> {
        await self.rpc("Filecoin.MpoolGetNonce", [.string(address)]).flatMap { value in
            value.int.map { .success(UInt64(max(0, $0))) }
                ?? .failure(NodeCallFailure(.error(code: 1, message: "MpoolGetNonce: not a number")))
        }
    }

    public func push(signedMessage: [UInt8]) async -> NodeReply {
        guard let message = try? JSON.parse(signedMessage) else { return .error(code: -32700, message: "signed message is not JSON") }
        switch await self.rpc("Filecoin.MpoolPush", [message]) {
        case .success(let result): return .result(result.encoded())
        case .failure(let failure): return failure.reply
        }
    }

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
