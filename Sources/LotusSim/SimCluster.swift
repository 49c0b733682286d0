// A simulated Lotus network: N daemons on loopback sharing one chain, with fault injection.

import Foundation
import Logging
import LotusWire
import Synchronization

/// How a simulated network runs.
public struct SimConfiguration: Sendable {
    /// How many daemons.
    public var nodes: Int
    /// One tipset per block time; nil advances only on `advance()` (deterministic tests).
    public var blockTime: Duration?
    /// The first daemon's port (the others follow); 0 picks free ports.
    public var basePort: Int
    /// How long a pushed message stays on its daemon before the network sees it.
    public var propagationDelay: Duration
    /// The control endpoint's port; nil for none, 0 for a free one.
    public var controlPort: Int?
    /// The network's name (StateNetworkName); its genesis CID derives from it.
    public var networkName: String
    /// How NodeStatus computes `Behind`. Head ages follow the wall clock while `blockTime`
    /// runs, and a virtual clock moving one block time per `advance` step when it is nil.
    public var behindMode: SimBehindMode
    /// The daemons forget the messages of tipsets this many epochs below the head (their
    /// blocks stay), so that a run of hours keeps flat memory; nil keeps every message.
    public var messageHorizon: Int64?
    /// Serve every daemon over TLS (`/https`, `wss://`) with this certificate; nil for plain http.
    public var tls: TLSServerIdentity?
    /// Daemons served with a certificate of their own instead of `tls` (a daemon whose certificate a
    /// pool does not trust), by index.
    public var tlsByDaemon: [Int: TLSServerIdentity] = [:]
    /// The CPU time each state read (StateGetActor, StateMinerInfo, StateSearchMsg, WalletBalance,
    /// ChainReadObj, …) burns on its daemon, as a real daemon spends far more on one than a proxy
    /// spends on a lookup. Real work on the call's thread, measured by that thread's CPU clock (not
    /// a sleep); `SimCluster.stateReadCPU(daemon:)` adds it up. Zero, the default, burns nothing.
    public var stateReadCost: Duration = .zero

    /// Three daemons on free ports producing a tipset every 30 s unless given otherwise, with no propagation delay
    /// and no control endpoint; every message is kept (`messageHorizon` nil, settable afterwards).
    public init(
        nodes: Int = 3, blockTime: Duration? = .seconds(30), basePort: Int = 0, propagationDelay: Duration = .zero, controlPort: Int? = nil,
        networkName: String = "fpoolsim", behindMode: SimBehindMode = .headAge
    ) {
        self.nodes = nodes
        self.blockTime = blockTime
        self.basePort = basePort
        self.propagationDelay = propagationDelay
        self.controlPort = controlPort
        self.networkName = networkName
        self.behindMode = behindMode
        self.messageHorizon = nil
        self.tls = nil
    }
}

/// What a client needs to reach one simulated daemon.
public struct SimDaemonInfo: Sendable, Equatable {
    /// The daemon's zero-based position in the cluster, the `daemon:` argument of the cluster's methods.
    public let index: Int
    /// The daemon's name, `sim-daemon-<index>`, used as the node name in `poolEntry`.
    public let name: String
    /// The loopback TCP port the daemon's API listens on (the bound port when the configuration asked for a free one).
    public let port: Int
    /// The daemon's Session UUID as its `Session` method answers it; it changes whenever the simulated process restarts, so a
    /// client can tell a restart from a reconnect.
    public let session: String
    /// A JWT for this daemon allowing read, write, sign and admin.
    public let adminToken: String
    /// False while a `kill` fault keeps the daemon down; it answers nothing until started again.
    public let running: Bool
    /// The network it follows (StateNetworkName).
    public let network: String
    /// Whether it serves over TLS.
    public let secure: Bool

    /// Lotus's multiaddr for the daemon's API (`/https` over TLS).
    public var multiaddr: String { "/ip4/127.0.0.1/tcp/\(self.port)/\(self.secure ? "https" : "http")" }
    /// A `FULLNODE_API_POOL_INFO` entry: `token:multiaddr:name`.
    public var poolEntry: String { "\(self.adminToken):\(self.multiaddr):\(self.name)" }
}

/// Starts, drives and breaks simulated daemons. Concurrency: every method may be called from
/// any task.
public final class SimCluster: Sendable {
    let world: SimWorld
    let servers: [SimDaemonServer]
    let logger: Logger
    private let background = Mutex<[Task<Void, Never>]>([])
    private let control = Mutex<SimControlServer?>(nil)

    private init(world: SimWorld, servers: [SimDaemonServer], logger: Logger) {
        self.world = world
        self.servers = servers
        self.logger = logger
    }

    /// Starts the daemons (and the chain clock and control endpoint, if configured).
    ///
    /// - Throws: when a port cannot be bound.
    public static func start(_ configuration: SimConfiguration, logger: Logger = Logger(label: "fpool.sim")) async throws -> SimCluster {
        precondition(configuration.nodes >= 1, "a simulated network needs at least one daemon")
        precondition(!configuration.networkName.isEmpty, "a simulated network needs a name")
        precondition(configuration.stateReadCost >= .zero, "a negative state read cost")
        let blockSeconds = UInt64(max(1, (configuration.blockTime ?? .seconds(30)).components.seconds))
        let genesisTime = UInt64(Date().timeIntervalSince1970)
        let chain = SimChainState(
            network: configuration.networkName, genesisTime: genesisTime, blockSeconds: blockSeconds,
            messageHorizon: configuration.messageHorizon)
        let clock = SimClock(start: genesisTime, blockSeconds: blockSeconds, virtual: configuration.blockTime == nil)
        let wallet = Set(SimFixtures.accounts.map(\.key))
        let daemons = (0..<configuration.nodes).map { index in
            SimDaemonState(
                index: index, name: "sim-daemon-\(index)", port: configuration.basePort == 0 ? 0 : configuration.basePort + index,
                secret: (0..<32).map { _ in UInt8.random(in: 0...255) }, wallet: wallet)
        }
        let world = SimWorld(
            chain: chain, daemons: daemons, clock: clock, behindMode: configuration.behindMode,
            propagationDelay: configuration.propagationDelay, readCost: SimReadCost(perCall: configuration.stateReadCost))
        let servers = daemons.indices.map {
            SimDaemonServer(world: world, index: $0, logger: logger, tls: configuration.tlsByDaemon[$0] ?? configuration.tls)
        }
        let cluster = SimCluster(world: world, servers: servers, logger: logger)
        do {
            for server in servers { try await server.start() }
            if let port = configuration.controlPort {
                let control = SimControlServer(cluster: cluster, logger: logger)
                try await control.start(port: port)
                cluster.control.withLock { $0 = control }
            }
        } catch {
            await cluster.stop()
            throw error
        }
        var tasks: [Task<Void, Never>] = []
        if let blockTime = configuration.blockTime {
            tasks.append(
                Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: blockTime)
                        if !Task.isCancelled { cluster.advance() }
                    }
                })
        }
        if configuration.propagationDelay > .zero {
            let tick = max(.milliseconds(5), configuration.propagationDelay / 4)
            tasks.append(
                Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: tick)
                        world.propagate()
                    }
                })
        }
        cluster.background.withLock { $0 = tasks }
        return cluster
    }

    /// Stops the clock, the control endpoint and every daemon.
    public func stop() async {
        let tasks = self.background.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        tasks.forEach { $0.cancel() }
        // Dropping the control server also breaks its reference back to this cluster.
        let control = self.control.withLock { control in
            defer { control = nil }
            return control
        }
        await control?.stop()
        for server in self.servers { await server.stop() }
    }

    /// A snapshot of every daemon, in index order, taken under the network's lock.
    public var daemons: [SimDaemonInfo] {
        self.world.state.withLock { state in
            state.daemons.map {
                SimDaemonInfo(
                    index: $0.index, name: $0.name, port: $0.port, session: $0.session, adminToken: $0.adminToken, running: $0.running,
                    network: state.networkName(daemon: $0.index), secure: self.servers[$0.index].tls != nil)
            }
        }
    }

    /// `FULLNODE_API_POOL_INFO`'s value for all daemons.
    public var poolInfo: String { self.daemons.map(\.poolEntry).joined(separator: ",") }

    /// The control endpoint's port, when it runs.
    public var controlPort: Int? { self.control.withLock { $0 }?.port }

    /// A token for `daemon` allowing `permissions`.
    public func token(daemon: Int, allow permissions: [String]) -> String {
        LotusJWT.sign(allow: permissions, secret: self.world.state.withLock { $0.daemons[daemon].secret })
    }

    /// Lets `count` block times pass now, each producing a tipset unless a null round is
    /// pending; returns the network height (of the newest tipset).
    @discardableResult
    public func advance(_ count: Int = 1) -> Int64 { self.world.advance(count: count) }

    /// The height of the network's newest tipset, which a daemon's own head may lag.
    public var networkHeight: Int64 { self.world.networkHeight }

    /// The network's name (StateNetworkName of every daemon on it).
    public var networkName: String { self.world.state.withLock { $0.chain.network } }

    /// The network's genesis block CID (ChainGetGenesis of every daemon on it).
    public var genesisCID: String { self.world.state.withLock { $0.chain.tipset(at: 0)!.cids[0] } }

    /// Null rounds: the next `count` block times (of the block timer, or `advance` steps)
    /// produce no tipset on any daemon, so every head ages together; the next tipset's height
    /// then skips the null rounds' epochs, as on Filecoin.
    public func scheduleNullRounds(_ count: Int) {
        precondition(count >= 0, "a negative number of null rounds")
        self.world.scheduleNullRounds(count)
        self.logger.info("sim null rounds", metadata: ["count": "\(count)"])
    }

    /// Null rounds asked for whose block time has not passed yet.
    public var pendingNullRounds: Int { self.world.state.withLock { $0.chain.pendingNullRounds } }

    /// The height `daemon` has synced to, the head its ChainHead and ChainNotify report; it lags `networkHeight` while the
    /// daemon is dead, paused or lagging, and never moves back.
    public func viewHeight(daemon: Int) -> Int64 { self.world.viewHeight(daemon) }

    /// Publishes every daemon's local messages now, as if the propagation delay had passed
    /// (for daemons that can publish: running, with message peers).
    public func propagateNow() {
        self.world.state.withLock { SimWorld.propagateDue(&$0, delay: .zero, now: .now) }
    }

    /// StateWaitMsg calls waiting on `daemon` now.
    public func waitingCalls(daemon: Int) -> Int { self.world.state.withLock { $0.daemons[daemon].waiters.count } }

    /// Returns once `daemon` has at least `count` StateWaitMsg calls waiting.
    public func waitForWaiters(daemon: Int, count: Int) async {
        await self.world.waitForWaiters(daemon: daemon, count: count, atLeast: true)
    }

    /// Returns once `daemon` has at most `count` StateWaitMsg calls waiting.
    public func waitForWaiters(daemon: Int, atMost count: Int) async {
        await self.world.waitForWaiters(daemon: daemon, count: count, atLeast: false)
    }

    /// Channels (ChainNotify, MpoolSub) open on each daemon now.
    public var subscriptions: [Int] { self.world.state.withLock { $0.daemons.map(\.subscriptions.count) } }

    /// Returns once exactly `total` channels are open across all daemons.
    public func waitForSubscriptions(total: Int) async {
        await self.world.waitForSubscriptions(total: total)
    }

    /// Calls answered by `daemon` so far.
    public func calls(daemon: Int) -> UInt64 { self.world.state.withLock { $0.daemons[daemon].calls } }

    /// The CPU time `daemon` has burned on state reads' cost (`SimConfiguration.stateReadCost`)
    /// so far, by its threads' CPU clocks: zero while the cost is.
    public func stateReadCPU(daemon: Int) -> Duration { self.world.state.withLock { $0.daemons[daemon].readCostCPU } }

    /// Removes a key from one daemon's wallet (its MpoolPushMessage then fails with "key not found").
    public func removeWalletKey(_ key: String, daemon: Int) {
        self.world.state.withLock { _ = $0.daemons[daemon].wallet.remove(key) }
    }

    /// Whether `cid` (signed or unsigned) is on the network's chain, and at which height.
    public func inclusionHeight(of cid: String) -> Int64? {
        self.world.state.withLock { $0.chain.inclusion(of: cid)?.height }
    }

    /// Injects a fault into one daemon.
    ///
    /// - Throws: when `start` or `restart` cannot bind the daemon's port again.
    public func inject(_ fault: SimFault, daemon index: Int) async throws {
        precondition(self.servers.indices.contains(index), "no daemon \(index)")
        if case .network(let name?) = fault { precondition(!name.isEmpty, "a network needs a name") }
        let server = self.servers[index]
        switch fault {
        case .kill:
            self.world.apply(.kill, to: index)
            await server.stop()
        case .start:
            if !self.world.state.withLock({ $0.daemons[index].running }) || !server.isListening {
                if !server.isListening { try await server.start() }
                self.world.apply(.start, to: index)
            }
        case .restart, .network:
            await server.stop()
            self.world.apply(fault, to: index)
            try await server.start()
        case .dropWebSockets:
            self.world.apply(.dropWebSockets, to: index)
            await server.dropWebSockets()
        default:
            self.world.apply(fault, to: index)
        }
        self.logger.info("sim fault", metadata: ["daemon": "\(index)", "fault": "\(fault)"])
    }
}
