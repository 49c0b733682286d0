// The simulator's control endpoint: inject faults and drive the chain over plain HTTP+JSON,
// for the CLI and for tests written in other languages.

import Logging
import LotusWire
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Routes (all answers JSON; errors are `{"error": "..."}` with status 400/404):
///
///     GET  /status
///     POST /advance                      {"count": 1}
///     POST /null-rounds                  {"count": 3}
///     POST /reorg                        {"depth": 2, "longer": false}
///     POST /daemons/<i>/kill | start | restart | drop-websockets
///     POST /daemons/<i>/pause-sync       {"paused": true}
///     POST /daemons/<i>/lag              {"epochs": 3}
///     POST /daemons/<i>/peers            {"message": 0, "block": 5}
///     POST /daemons/<i>/fail             {"method": "StateGetActor", "count": 2, "code": 1, "message": "…"}
///     POST /daemons/<i>/latency          {"ms": 200}
///     POST /daemons/<i>/black-hole       {"enabled": true}
///     POST /daemons/<i>/network          {"name": "othernet"}   (null: the cluster's own network)
final class SimControlServer: Sendable {
    let cluster: SimCluster
    let logger: Logger
    private let listener = Mutex<(any Channel)?>(nil)
    private let acceptTask = Mutex<Task<Void, Never>?>(nil)

    init(cluster: SimCluster, logger: Logger) {
        self.cluster = cluster
        self.logger = logger
    }

    var port: Int? { self.listener.withLock { $0?.localAddress?.port } }

    func start(port: Int) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        self.listener.withLock { $0 = server.channel }
        let task = Task<Void, Never> {
            await withDiscardingTaskGroup { group in
                _ = try? await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { try? await self.serve(connection) }
                    }
                }
            }
        }
        self.acceptTask.withLock { $0 = task }
    }

    func stop() async {
        self.acceptTask.withLock { $0 }?.cancel()
        try? await self.listener.withLock { $0 }?.close()
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body = []
                case .body(let buffer):
                    body += buffer.readableBytesView
                case .end:
                    guard let requestHead = head else { continue }
                    let (status, reply) = await self.handle(requestHead, body: body)
                    let bytes = reply.encoded() + [0x0A]
                    let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(bytes.count))])
                    try await outbound.write(.head(HTTPResponseHead(version: requestHead.version, status: status, headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                    try await outbound.write(.end(nil))
                    if !requestHead.isKeepAlive { return }
                }
            }
        }
    }

    private func handle(_ head: HTTPRequestHead, body: [UInt8]) async -> (HTTPResponseStatus, JSON) {
        let path = head.uri.split(separator: "/").map(String.init)
        let json = body.isEmpty ? JSON.object([]) : ((try? JSON.parse(body)) ?? .null)
        guard case .object = json else { return (.badRequest, ["error": "the body must be a JSON object"]) }
        switch (head.method, path.count, path.first) {
        case (.GET, 1, "status"):
            return (.ok, self.status())
        case (.POST, 1, "advance"):
            let count = Int(json["count"]?.int ?? 1)
            guard (1...10_000).contains(count) else { return (.badRequest, ["error": "count must be 1…10000"]) }
            return (.ok, ["height": .int(self.cluster.advance(count))])
        case (.POST, 1, "null-rounds"):
            guard let count = json["count"]?.int, (1...10_000).contains(count) else {
                return (.badRequest, ["error": "null-rounds needs an integer 'count' of 1…10000"])
            }
            self.cluster.scheduleNullRounds(Int(count))
            return (.ok, self.status())
        case (.POST, 1, "reorg"):
            // The chain only grows, so a depth valid now is still valid when the reorg runs.
            let deepest = self.cluster.reorgableDepth
            guard let depth = json["depth"]?.int, depth >= 1, depth <= deepest else {
                return (
                    .badRequest,
                    [
                        "error": .string(
                            "reorg needs an integer 'depth' of 1…\(deepest), the tipsets above genesis (and an optional boolean 'longer')")
                    ]
                )
            }
            guard json["longer"].map({ $0.bool != nil }) ?? true else {
                return (.badRequest, ["error": "reorg's 'longer' must be a boolean: true adds one tipset above the replaced ones"])
            }
            let reorg = self.cluster.reorg(depth: Int(depth), longer: json["longer"]?.bool ?? false)
            func keys(_ keys: [SimTipSetKey]) -> JSON {
                .array(keys.map { ["height": .int($0.height), "cids": .array($0.cids.map(JSON.string))] })
            }
            return (
                .ok,
                [
                    "height": .int(self.cluster.networkHeight), "forkHeight": .int(reorg.forkHeight), "orphaned": keys(reorg.orphaned),
                    "applied": keys(reorg.applied),
                ]
            )
        case (.POST, 3, "daemons"):
            guard let index = Int(path[1]), self.cluster.servers.indices.contains(index) else {
                return (.notFound, ["error": .string("no daemon '\(path[1])'; daemons are 0…\(self.cluster.servers.count - 1)")])
            }
            do {
                try await self.cluster.inject(try Self.fault(path[2], json), daemon: index)
                return (.ok, self.status())
            } catch let error as SimControlError {
                return (.badRequest, ["error": .string(error.message)])
            } catch {
                return (.internalServerError, ["error": .string("\(error)")])
            }
        default:
            return (
                .notFound,
                [
                    "error": .string(
                        "unknown route \(head.method) \(head.uri); see GET /status, POST /advance, POST /null-rounds, POST /reorg, POST /daemons/<i>/<fault>"
                    )
                ]
            )
        }
    }

    private static func fault(_ name: String, _ json: JSON) throws(SimControlError) -> SimFault {
        func int(_ key: String) throws(SimControlError) -> Int64 {
            guard let value = json[key]?.int else { throw SimControlError(message: "\(name) needs an integer '\(key)'") }
            return value
        }
        func bool(_ key: String) throws(SimControlError) -> Bool {
            guard let value = json[key]?.bool else { throw SimControlError(message: "\(name) needs a boolean '\(key)'") }
            return value
        }
        switch name {
        case "kill": return .kill
        case "start": return .start
        case "restart": return .restart
        case "drop-websockets": return .dropWebSockets
        case "pause-sync": return .pauseSync(try bool("paused"))
        case "lag": return .lag(epochs: try int("epochs"))
        case "peers": return .peers(message: Int(try int("message")), block: Int(try int("block")))
        case "latency": return .latency(milliseconds: Int(try int("ms")))
        case "black-hole": return .blackHole(try bool("enabled"))
        case "network":
            // null (or the cluster's own name) puts the daemon back on the cluster's network.
            switch json["name"] {
            case .some(.string(let network)) where !network.isEmpty: return .network(name: network)
            case .some(.null): return .network(name: nil)
            default: throw SimControlError(message: "network needs a non-empty string 'name' (null for the cluster's own network)")
            }
        case "fail":
            guard let method = json["method"]?.string, let message = json["message"]?.string else {
                throw SimControlError(message: "fail needs 'method' and 'message' (and optional 'count', 'code')")
            }
            let name = method.hasPrefix("Filecoin.") ? String(method.dropFirst("Filecoin.".count)) : method
            guard SimMethods.served.contains(name) else {
                throw SimControlError(
                    message:
                        "fail: the simulator does not serve '\(method)'; methods: \(SimMethods.served.sorted().joined(separator: ", "))")
            }
            return .failNext(
                method: name, count: Int(json["count"]?.int ?? 1), error: RPCError(code: json["code"]?.int ?? 1, message: message))
        default:
            throw SimControlError(
                message:
                    "unknown fault '\(name)'; expected one of: kill, start, restart, drop-websockets, pause-sync, lag, peers, fail, latency, black-hole, network"
            )
        }
    }

    private func status() -> JSON {
        self.cluster.world.state.withLock { state in
            [
                "height": .int(state.chain.height), "network": .string(state.chain.network),
                "pendingNullRounds": .int(Int64(state.chain.pendingNullRounds)), "behindMode": .string(state.behindMode.rawValue),
                "reorgs": .int(Int64(state.chain.reorgs)),
                "daemons": .array(
                    state.daemons.map { daemon in
                        [
                            "index": .int(Int64(daemon.index)), "name": .string(daemon.name), "port": .int(Int64(daemon.port)),
                            "network": .string(state.networkName(daemon: daemon.index)), "behind": .int(state.behind(daemon: daemon.index)),
                            "session": .string(daemon.session), "running": .bool(daemon.running),
                            "head": .int(daemon.head), "headOrphaned": .bool(daemon.orphanedHead != nil), "lag": .int(daemon.lag),
                            "syncPaused": .bool(daemon.syncPaused), "messagePeers": .int(Int64(daemon.messagePeers)),
                            "blockPeers": .int(Int64(daemon.blockPeers)), "blackHole": .bool(daemon.blackHole),
                            "latencyMs": .int(Int64(daemon.latencyMilliseconds)), "calls": .int(Int64(daemon.calls)),
                            "readCostMicros": .int(Int64(daemon.readCostCPU / .microseconds(1))),
                            "apiInfo": .string("\(daemon.adminToken):/ip4/127.0.0.1/tcp/\(daemon.port)/http:\(daemon.name)"),
                        ]
                    }),
            ]
        }
    }
}

struct SimControlError: Error {
    let message: String
}
