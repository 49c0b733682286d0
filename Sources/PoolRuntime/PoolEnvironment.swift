// The pool's starting configuration from the environment (PRODUCT.md §5), every problem reported.

import GeneratedRoutes
import RouteModel

/// What `fpool run` starts with.
public struct PoolEnvironment: Sendable {
    /// The pool-wide settings: defaults, changed by the `FPOOL_*` variables of `settingVariables`.
    public var settings = PoolSettings()
    /// The daemons, in index order: FULLNODE_API_POOL_INFO's, then FULLNODE_API_INFO's.
    public var nodes: [NodeEndpoint] = []
    /// `FULLNODE_API_USE_POOL=false`: a plain pass-through to the single legacy node.
    public var usePool = true
    /// Per-API settings from `<Api>_APIRT_CONFIG`, by method name.
    public var apiOverrides: [String: APIRouteOverride] = [:]
    /// `FPOOL_NETWORK`: the network name every daemon must report (`StateNetworkName`); nil
    /// lets the daemons first reached decide.
    public var network: String?
    /// `FPOOL_DAEMON_CA`: a PEM file of the CA certificates daemons dialled over TLS (`/https`,
    /// `/wss`) must chain to; nil trusts the system's roots.
    public var daemonCAFile: String?

    /// The settings each `FPOOL_*` variable sets.
    public static let settingVariables: [(variable: String, key: String)] = [
        ("FPOOL_DEFAULT_POLICY", "DefaultPolicy"), ("FPOOL_PRIMARY_SEED", "PrimarySeed"),
        ("FPOOL_MAX_SYNC_BEHIND", "MaxSyncBehind"), ("FPOOL_MIN_MESSAGE_PEERS", "MinMessagePeers"),
        ("FPOOL_MIN_BLOCK_PEERS", "MinBlockPeers"), ("FPOOL_MAX_BEHIND_DIFF", "MaxBehindDiff"),
        ("FPOOL_HEARTBEAT_INTERVAL", "HeartbeatInterval"), ("FPOOL_TIPSET_WAIT", "TipsetWait"),
        ("FPOOL_HEDGE_DELAY", "HedgeDelay"), ("FPOOL_CHANNEL_SILENCE", "ChannelSilence"), ("FPOOL_CACHE_BYTES", "CacheBytes"),
    ]

    static let apirtSuffix = "_APIRT_CONFIG"

    /// An empty configuration with default settings (for embedding and tests).
    public init() {}

    /// Reads the environment.
    ///
    /// - Throws: `EnvironmentError` listing every bad variable or entry (tokens redacted).
    public static func load(_ environment: [String: String]) throws(EnvironmentError) -> PoolEnvironment {
        var result = PoolEnvironment()
        var problems: [String] = []
        if let pool = environment["FULLNODE_API_POOL_INFO"], !pool.trimmedSpaces.isEmpty {
            do { result.nodes = try APIInfo.parsePool(pool) } catch { problems += error.badEntries.map(\.description) }
        }
        var legacy: NodeEndpoint?
        if let single = environment["FULLNODE_API_INFO"], !single.trimmedSpaces.isEmpty {
            do { legacy = try APIInfo.parseLegacy(single) } catch { problems.append(error.description) }
        }
        if let usePool = environment["FULLNODE_API_USE_POOL"] {
            switch usePool.lowercased() {
            case "true", "1", "": result.usePool = true
            case "false", "0": result.usePool = false
            default: problems.append("FULLNODE_API_USE_POOL: '\(usePool)' is not valid; expected true or false")
            }
        }
        // The same daemon twice would count twice in every comparison and binding.
        var seen: [String: String] = [:]
        for node in result.nodes {
            let key = "\(node.address.host):\(node.address.port)"
            if let first = seen[key] {
                problems.append("FULLNODE_API_POOL_INFO: \(node.name) and \(first) are the same daemon (\(key)); list each daemon once")
            } else {
                seen[key] = node.name
            }
        }
        if let legacy {
            if !result.usePool {
                result.nodes = [legacy]
            } else if !result.nodes.contains(where: { $0.address.host == legacy.address.host && $0.address.port == legacy.address.port }) {
                // Compared as the duplicate check above compares: `/http` or not, one daemon.
                result.nodes.append(legacy)
            }
        } else if !result.usePool {
            problems.append("FULLNODE_API_USE_POOL=false needs FULLNODE_API_INFO (the single daemon to pass through to)")
        }
        result.nodes = Self.uniquelyNamed(result.nodes, problems: &problems)
        if result.nodes.isEmpty && problems.isEmpty {
            problems.append(
                "no daemons configured: set FULLNODE_API_POOL_INFO (token:multiaddr:name,…) or FULLNODE_API_INFO (token:multiaddr)")
        }
        if let network = environment["FPOOL_NETWORK"]?.trimmedSpaces, !network.isEmpty {
            result.network = network
        }
        if let caFile = environment["FPOOL_DAEMON_CA"]?.trimmedSpaces, !caFile.isEmpty {
            result.daemonCAFile = caFile
        }
        for (variable, key) in self.settingVariables {
            guard let text = environment[variable] else { continue }
            do { try result.settings.set(key, to: text.trimmedSpaces) } catch { problems.append("\(variable): \(error)") }
        }
        for (variable, text) in environment.sorted(by: { $0.key < $1.key }) where variable.hasSuffix(self.apirtSuffix) {
            let name = String(variable.dropLast(self.apirtSuffix.count))
            guard let route = RouteTable.lookup(.v1, name: name)?.route ?? RouteTable.lookup(.v0, name: name)?.route else {
                let known = RouteTable.entries(.v1).map(\.name) + RouteTable.entries(.v0).map(\.name)
                let hint = NameSuggestion.closest(to: name, among: known).map { "; did you mean \($0)?" } ?? ""
                problems.append("\(variable): unknown API '\(name)'\(hint)")
                continue
            }
            var override = result.apiOverrides[name] ?? APIRouteOverride(route: route)
            do {
                try override.apply(apirtConfig: text)
            } catch {
                problems.append("\(variable): \(error)")
                continue
            }
            // As `api set` refuses it: a policy on a push would silently not apply, and a
            // broadcast of a message each daemon signs could spend twice.
            if let refusal = Pool.policyRefusal(route, policy: override.policy) {
                problems.append("\(variable): \(refusal); give 'default' as its policy")
                continue
            }
            result.apiOverrides[name] = override
        }
        guard problems.isEmpty else { throw EnvironmentError(problems: problems) }
        return result
    }
}

extension PoolEnvironment {
    /// Every node by a name of its own, as `node set` and `primary set` find them: daemons
    /// left unnamed on one host (named by the host alone) are named `host:port` instead; two
    /// daemons an operator gave the same name are a problem to fix.
    static func uniquelyNamed(_ nodes: [NodeEndpoint], problems: inout [String]) -> [NodeEndpoint] {
        let counts = Dictionary(nodes.map { ($0.name, 1) }, uniquingKeysWith: +)
        var renamed: [NodeEndpoint] = []
        var reported: Set<String> = []
        for node in nodes {
            guard counts[node.name, default: 0] > 1 else {
                renamed.append(node)
                continue
            }
            if node.name == node.address.host {
                renamed.append(NodeEndpoint(token: node.token, address: node.address, name: "\(node.address.host):\(node.address.port)"))
            } else if reported.insert(node.name).inserted {
                problems.append(
                    "FULLNODE_API_POOL_INFO: two or more daemons are named '\(node.name)'; give each its own name (token:multiaddr:name)")
            }
        }
        return renamed
    }
}

/// Everything wrong with the environment, one line per problem.
public struct EnvironmentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One line per bad variable or entry, in the order `load` checks them; never empty when thrown.
    public let problems: [String]

    /// The problems, one per line, ready to print before exiting.
    public var description: String { self.problems.joined(separator: "\n") }
}
