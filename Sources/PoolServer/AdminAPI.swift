// fpool's own admin methods (`FPool.<Name>`, admin permission, on the same endpoint as the
// FullNode API): one per CLI command, so everything the CLI does a script can do too.

import GeneratedRoutes
import LotusWire
import PoolRuntime
import RouteModel

/// Answers `FPool.` calls. Concurrency: stateless; the pool and log levels synchronise.
struct AdminAPI: Sendable {
    let pool: Pool
    let auth: ClientAuth
    /// The multiaddr clients on other hosts reach this pool at (`auth api-info`), given an operator's `--address`.
    let remoteAddress: @Sendable (_ override: String?) throws(RPCError) -> String
    let logLevels: LogLevels
    let usePool: Bool
    /// Call and retry totals (`Top`).
    let metrics: PoolMetrics

    static let methods = [
        "NodeList", "NodeAdd", "NodeSet", "APIList", "APISet", "APIWhy", "PrimaryList", "PrimarySet", "ConfigGet", "ConfigSet",
        "AuthNew", "AuthAPIInfo", "AuthPoolInfo", "LogSetLevel", "Top",
    ]

    /// Runs one admin method; errors come back as RPC errors with a one-line reason.
    ///
    /// `callerSeed` is the seed of the caller's token: `NodeList` marks that miner's primary.
    func call(_ method: String, params bytes: [UInt8], callerSeed: MinerSeed? = nil) async -> Result<JSON, RPCError> {
        guard let params = (try? JSON.parse(bytes))?.array else {
            return .failure(RPCError.parse("params must be a JSON array"))
        }
        do {
            return .success(try await self.dispatch(method, Params(method: method, values: params), callerSeed: callerSeed))
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(RPCError(code: 1, message: "\(error)"))
        }
    }

    private func dispatch(_ method: String, _ params: Params, callerSeed: MinerSeed?) async throws -> JSON {
        switch method {
        case "NodeList": return .array(self.pool.nodes(seenBy: try params.seed(0) ?? callerSeed).map(self.nodeJSON))
        case "NodeAdd":
            let address: Multiaddr
            do {
                address = try Multiaddr(parsing: try params.string(0, "api"))
            } catch let error as MultiaddrError {
                throw RPCError(code: 1, message: "--api: \(error)")
            }
            let token = try params.string(1, "token")
            let name = try params.optionalString(2) ?? "\(address.host):\(address.port)"
            let endpoint = NodeEndpoint(token: token, address: address, name: name)
            let sealing = params.bool(3) ?? false
            let index = try await self.command { () async throws(PoolCommandError) in
                try await self.pool.admitNode(endpoint, sealing: sealing)
            }
            // Checked now rather than at the next interval, so the answer can say how it went.
            await self.pool.heartbeat()
            guard let node = self.pool.nodes.first(where: { $0.index == index }) else { return .null }
            return self.nodeJSON(node)
        case "NodeSet":
            let node = try params.string(0, "nid")
            let key = try params.string(1, "key")
            let value = try params.string(2, "val")
            let change: Pool.NodeChange
            switch (key, value) {
            case ("status", "pause"): change = .pause
            case ("status", "resume"): change = .resume
            case ("status", "exit"): change = .exit
            case ("status", _): throw RPCError(code: 1, message: "--val for status: expected pause, resume or exit; got '\(value)'")
            case ("sealing", "true"): change = .sealing(true)
            case ("sealing", "false"): change = .sealing(false)
            case ("sealing", _): throw RPCError(code: 1, message: "--val for sealing: expected true or false; got '\(value)'")
            default: throw RPCError(code: 1, message: "unknown node key '\(key)'; keys: status, sealing")
            }
            try await self.command { () async throws(PoolCommandError) in try await self.pool.setNode(node, change) }
            return .null
        case "APIList":
            let version = try params.version(0)
            var overrides: [(String, JSON)] = []
            for entry in RouteTable.entries(version) {
                let settings = try await self.command { () throws(PoolCommandError) in
                    try self.pool.apiSettings(entry.name, version: version)
                }
                if settings != APIRouteOverride(route: entry) { overrides.append((entry.name, self.settingsJSON(settings))) }
            }
            let calls = self.pool.callIDs.sorted { $0.key < $1.key }.map { ($0.key, JSON.int(Int64($0.value))) }
            return [
                "DefaultPolicy": .string(self.pool.settings.defaultPolicy.rawValue), "CallIds": .object(calls),
                "Overrides": .object(overrides),
            ]
        case "APISet":
            let name = try params.string(0, "api")
            let key = try params.string(1, "key")
            let value = try params.string(2, "val")
            try await self.command { () throws(PoolCommandError) in try self.pool.setAPI(name, key: key, to: value) }
            let version: APIVersion = RouteTable.lookup(.v1, name: name) != nil ? .v1 : .v0
            return self.settingsJSON(
                try await self.command { () throws(PoolCommandError) in try self.pool.apiSettings(name, version: version) })
        case "APIWhy":
            let name = try params.string(0, "api")
            let version = try params.version(1)
            let height = params.values.count > 3 ? params.values[3].int : nil
            let explanation = try await self.command { () throws(PoolCommandError) in
                try self.pool.explain(
                    name, version: version, sender: try? params.optionalString(2), height: height,
                    params: (try? params.optionalString(4)).flatMap { $0 }.map { Array($0.utf8) })
            }
            return self.explanationJSON(explanation)
        case "PrimaryList":
            let nodes = Dictionary(uniqueKeysWithValues: self.pool.nodes.map { ($0.index, $0) })
            // Read apart from the bindings: a node added in between is simply not listed yet.
            return .array(
                self.pool.bindings.compactMap { binding -> JSON? in
                    guard let node = nodes[binding.node] else { return nil }
                    return [
                        "Seed": .string(binding.seed), "Node": .string(node.name), "NodeID": node.id.map(JSON.string) ?? .null,
                        "Address": .string(node.address), "Status": .string(node.state.description), "Explicit": .bool(binding.explicit),
                    ]
                })
        case "PrimarySet":
            let seed = try params.string(0, "seed")
            let node = try params.string(1, "nid")
            try await self.command { () throws(PoolCommandError) in try self.pool.bind(seed: seed, node: node) }
            return .null
        case "ConfigGet":
            return .object(self.pool.settings.all.map { ($0.key, JSON.string($0.value)) })
        case "ConfigSet":
            let key = try params.string(0, "key")
            let value = try params.string(1, "val")
            do {
                try self.pool.setSetting(key, to: value)
            } catch {
                throw RPCError(code: 1, message: error.description)
            }
            return .string(try self.pool.settings.value(of: key))
        case "AuthNew":
            return .string(self.auth.token(upTo: try params.perm(0), seed: try params.seed(1)))
        case "AuthAPIInfo":
            return .string(
                "\(self.auth.token(upTo: try params.perm(0), seed: try params.seed(1))):\(try self.remoteAddress(try params.optionalString(2)))"
            )
        case "AuthPoolInfo":
            return [
                "UsePool": .bool(self.usePool),
                "PoolInfo": .string(self.pool.endpoints.map { "\($0.token):\($0.address):\($0.name)" }.joined(separator: ",")),
            ]
        case "Top": return self.top()
        case "LogSetLevel":
            let system = try params.string(0, "system")
            let level = try params.string(1, "level")
            do {
                try self.logLevels.set(system, to: level)
            } catch {
                throw RPCError(code: 1, message: error.description)
            }
            return .null
        default:
            let hint = NameSuggestion.closest(to: method, among: Self.methods).map { "; did you mean FPool.\($0)?" } ?? ""
            throw RPCError(code: -32601, message: "method 'FPool.\(method)' not found\(hint)")
        }
    }

    /// Runs a pool command; its error becomes the one-line RPC error the CLI prints.
    private func command<T>(_ body: () async throws(PoolCommandError) -> T) async throws(RPCError) -> T {
        do {
            return try await body()
        } catch {
            throw RPCError(code: 1, message: error.description)
        }
    }

    func nodeJSON(_ node: NodeSummary) -> JSON {
        [
            "Index": .int(Int64(node.index)), "ID": node.id.map(JSON.string) ?? .null, "Name": .string(node.name),
            "Address": .string(node.address), "State": .string(node.state.description), "Available": .bool(node.state.isAvailable),
            "Sealing": .bool(node.sealing), "Primary": .bool(node.isPrimary), "PrimaryOf": .int(Int64(node.primaryOf)),
            "BoundSeeds": .int(Int64(node.boundSeeds)),
            "Calls": .int(Int64(node.calls)), "Head": node.health.map { .int($0.head) } ?? .null,
            "Behind": node.health.map { .int(Int64($0.behind)) } ?? .null,
            "MessagePeers": node.health.map { .int(Int64($0.messagePeers)) } ?? .null,
            "BlockPeers": node.health.map { .int(Int64($0.blockPeers)) } ?? .null,
            "Serving": .bool(node.serving), "DegradedFallback": .bool(node.degradedFallback),
            "Network": node.network.map { .string($0.name) } ?? .null, "Genesis": node.network.map { .string($0.genesis) } ?? .null,
        ]
    }

    func settingsJSON(_ settings: APIRouteOverride) -> JSON {
        [
            "Policy": .string(settings.policy.description), "NoHang": .bool(settings.nohang),
            "Timeout": .string(settings.timeout.description),
            "Filter": .string(settings.filter.rawValue), "Cache": .string(settings.cache.rawValue),
        ]
    }

    func explanationJSON(_ explanation: RoutingExplanation) -> JSON {
        [
            "Method": .string(explanation.method), "Version": .string(explanation.version.rawValue), "Policy": .string(explanation.policy),
            "Filter": .string(explanation.filter), "NoHang": .bool(explanation.nohang), "Timeout": .string(explanation.timeout),
            "Effect": .string(explanation.effect), "Rule": .string(explanation.rule), "Hedge": .string(explanation.hedge),
            "Cache": .string(explanation.cache),
            "Nodes": .array(
                explanation.nodes.map { node in
                    [
                        "Index": .int(Int64(node.index)), "Name": .string(node.name), "ID": node.id.map(JSON.string) ?? .null,
                        "State": .string(node.state), "Head": node.head.map(JSON.int) ?? .null,
                        "Rank": node.rank.map { .int(Int64($0)) } ?? .null, "Reason": .string(node.reason),
                    ]
                }),
        ]
    }
}

/// Positional admin params with errors that name the missing or malformed one.
struct Params {
    let method: String
    let values: [JSON]

    func string(_ index: Int, _ name: String) throws(RPCError) -> String {
        guard index < self.values.count, let text = self.values[index].string, !text.isEmpty else {
            throw RPCError(code: -32602, message: "FPool.\(self.method): param \(index) (\(name)) must be a non-empty string")
        }
        return text
    }

    func optionalString(_ index: Int) throws(RPCError) -> String? {
        guard index < self.values.count, !self.values[index].isNull else { return nil }
        guard let text = self.values[index].string else {
            throw RPCError(code: -32602, message: "FPool.\(self.method): param \(index) must be a string or null")
        }
        return text.isEmpty ? nil : text
    }

    func bool(_ index: Int) -> Bool? { index < self.values.count ? self.values[index].bool : nil }

    func version(_ index: Int) throws(RPCError) -> APIVersion {
        guard let text = try self.optionalString(index) else { return .v1 }
        guard let version = APIVersion(rawValue: text) else {
            throw RPCError(code: 1, message: "unknown API version '\(text)'; versions: v0, v1")
        }
        return version
    }

    /// An optional miner seed (`--seed`): an ID address or a number.
    func seed(_ index: Int) throws(RPCError) -> MinerSeed? {
        guard let text = try self.optionalString(index) else { return nil }
        guard let seed = MinerSeed(text) else {
            throw RPCError(code: 1, message: "--seed '\(text)' is not a miner ID address (f0…, t0…) or a number")
        }
        return seed
    }

    func perm(_ index: Int) throws(RPCError) -> Perm {
        let text = try self.optionalString(index) ?? Perm.admin.rawValue
        guard let perm = Perm(rawValue: text) else {
            throw RPCError(code: 1, message: "unknown permission '\(text)'; permissions: read, write, sign, admin")
        }
        return perm
    }
}
