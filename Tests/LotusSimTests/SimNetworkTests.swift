// A simulated network's identity (its name and genesis), and a daemon restarted on another
// network, as a client that checks the network would see them; a daemon started again on its
// port.

import FPoolTestSupport
import Logging
import LotusSim
import LotusWire
import NIOPosix
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimNetworkTests {
    @Test func everyDaemonNamesTheClustersNetworkAndGenesis() async throws {
        try await withCluster(nodes: 2, networkName: "calibsim") { cluster in
            cluster.advance(2)
            for daemon in 0..<2 {
                for path in ["/rpc/v0", "/rpc/v1"] {
                    let client = try await cluster.client(daemon, path: path)
                    #expect(try await client.call("Filecoin.StateNetworkName").string == "calibsim")
                    let genesis = try await client.call("Filecoin.ChainGetGenesis")
                    #expect(genesis["Height"]?.int == 0)
                    #expect(genesis["Cids"] == [["/": .string(cluster.genesisCID)]])
                    #expect(genesis["Blocks"]?.array?.count == 1)
                    #expect(genesis["Blocks"]?[0]?["Parents"] == [])
                    // The genesis is the chain's first tipset, below every other.
                    #expect(try await client.call("Filecoin.ChainGetTipSetByHeight", [0, []]) == genesis)
                    let first = try await client.call("Filecoin.ChainGetTipSetByHeight", [1, []])
                    #expect(first["Blocks"]?[0]?["Parents"] == genesis["Cids"])
                }
                #expect(try await cluster.http(daemon, "Filecoin.StateNetworkName").json?["result"]?.string == "calibsim")
            }
            #expect(cluster.networkName == "calibsim")
            #expect(cluster.daemons.map(\.network) == ["calibsim", "calibsim"])
        }
    }

    @Test func theGenesisCIDFollowsTheNetworksName() async throws {
        func genesis(_ name: String) async throws -> String? {
            try await withCluster(nodes: 1, networkName: name) { cluster in
                try await cluster.client().call("Filecoin.ChainGetGenesis")["Cids"]?[0]?["/"]?.string
            }
        }
        let alpha = try #require(try await genesis("alpha"))
        let alphaAgain = try await genesis("alpha")
        let beta = try await genesis("beta")
        #expect(alpha == alphaAgain)
        #expect(alpha != beta)
        #expect(alpha.hasPrefix("bafy2bzace") && alpha.count == 62)
    }

    @Test func aDaemonOnAnotherNetworkShowsItsGenesisAndAFarHigherUnrelatedHead() async throws {
        try await withCluster(nodes: 2) { cluster in
            cluster.advance(3)
            let before = try await cluster.client(1)
            let notify = try await before.subscribe("Filecoin.ChainNotify")
            let session = cluster.daemons[1].session
            try await cluster.inject(.network(name: "othernet"), daemon: 1)
            // As a restart onto another chain: its connections and channels are gone.
            await before.waitUntilClosed()
            for await _ in notify.values {}
            let other = try await cluster.client(1)
            let ours = try await cluster.client(0)
            #expect(try await other.call("Filecoin.Session").string != session)
            #expect(try await other.call("Filecoin.StateNetworkName").string == "othernet")
            #expect(try await ours.call("Filecoin.StateNetworkName").string == "fpoolsim")
            #expect(cluster.daemons.map(\.network) == ["fpoolsim", "othernet"])
            let otherGenesis = try await other.call("Filecoin.ChainGetGenesis")
            #expect(otherGenesis["Height"]?.int == 0)
            #expect(otherGenesis["Cids"]?[0]?["/"]?.string != cluster.genesisCID)

            let head = try await other.call("Filecoin.ChainHead")
            let ourHead = try await ours.call("Filecoin.ChainHead")
            #expect(head["Height"]?.int == 1003)
            #expect(ourHead["Height"]?.int == 3)
            let cids = Set(head["Cids"]?.array?.compactMap { $0["/"]?.string } ?? [])
            let ourCIDs = Set(ourHead["Cids"]?.array?.compactMap { $0["/"]?.string } ?? [])
            #expect(!cids.isEmpty && cids.isDisjoint(with: ourCIDs))
            let status = try await other.call("Filecoin.NodeStatus", [false])
            #expect(status["SyncStatus"]?["Epoch"]?.int == 1003)
            #expect(status["SyncStatus"]?["Behind"]?.int == 0)
            // It knows its network's tipsets and blocks, not ours.
            let key = try #require(head["Cids"])
            #expect(try await other.call("Filecoin.ChainGetTipSet", [key]) == head)
            #expect(try await other.call("Filecoin.ChainGetBlock", [try #require(key[0])])["Height"]?.int == 1003)
            #expect(try await rpcError { try await other.call("Filecoin.ChainGetTipSet", [try #require(ourHead["Cids"])]) } != nil)
            // Below its first tipset above the offset lies only its genesis.
            #expect(try await other.call("Filecoin.ChainGetTipSetByHeight", [500, key]) == otherGenesis)
            #expect(try await other.call("Filecoin.ChainGetTipSetByHeight", [1002, key])["Height"]?.int == 1002)
            #expect(try await other.call("Filecoin.ChainGetTipSetAfterHeight", [500, key])["Height"]?.int == 1001)
            #expect(try await other.call("Filecoin.ChainGetTipSetAfterHeight", [1002, key])["Height"]?.int == 1002)

            // Its chain moves with ours; a new ChainNotify shows its tipsets.
            let otherNotify = try await other.subscribe("Filecoin.ChainNotify")
            cluster.advance(1)
            let values = await next(2, of: otherNotify)
            #expect(values[0][0]?["Val"]?["Height"]?.int == 1003)
            #expect(values[1][0]?["Type"]?.string == "apply")
            #expect(values[1][0]?["Val"]?["Height"]?.int == 1004)
            #expect(values[1][0]?["Val"]?["Blocks"]?[0]?["Parents"] == head["Cids"])

            try await cluster.inject(.network(name: nil), daemon: 1)
            await other.waitUntilClosed()
            let back = try await cluster.client(1)
            #expect(try await back.call("Filecoin.StateNetworkName").string == "fpoolsim")
            #expect(try await back.call("Filecoin.ChainGetGenesis")["Cids"]?[0]?["/"]?.string == cluster.genesisCID)
            let backHead = try await back.call("Filecoin.ChainHead")
            #expect(backHead == (try await ours.call("Filecoin.ChainHead")))
            #expect(backHead["Height"]?.int == 4)
        }
    }

    @Test func namingTheClustersOwnNetworkPutsADaemonBackOnIt() async throws {
        try await withCluster(nodes: 1, networkName: "homenet") { cluster in
            try await cluster.inject(.network(name: "othernet"), daemon: 0)
            #expect(cluster.daemons[0].network == "othernet")
            try await cluster.inject(.network(name: "homenet"), daemon: 0)
            #expect(cluster.daemons[0].network == "homenet")
            #expect(try await cluster.client().call("Filecoin.ChainHead")["Height"]?.int == 0)
        }
    }

    /// A daemon started again binds its old port even when something held the port for a
    /// moment (between a kill and a start the kernel may give it to an outgoing connection).
    @Test func aStartWaitsForItsPortToBeFreeAgain() async throws {
        let logs = LogCapture()
        var logger = Logger(label: "fpool.sim") { _ in LineCapture(sink: logs.sink) }
        logger.logLevel = .debug
        let cluster = try await SimCluster.start(SimConfiguration(nodes: 1), logger: logger)
        do {
            let port = cluster.daemons[0].port
            try await cluster.inject(.kill, daemon: 0)
            // With SO_REUSEADDR, as the daemon's own listener: the killed daemon's closed
            // connections (TIME_WAIT) must not keep the holder out.
            let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: "127.0.0.1", port: port).get()
            let start = Task {
                defer { logs.sink("the start ended") }
                try await cluster.inject(.start, daemon: 0)
            }
            // The start finds the port held (or gives up at once, which fails here without waiting).
            let held = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await logs.waitForLine(containing: "port \(port) still in use")
                    return true
                }
                group.addTask {
                    await logs.waitForLine(containing: "the start ended")
                    return false
                }
                defer { group.cancelAll() }
                return await group.next() ?? false
            }
            #expect(held, "the start did not wait for its port")
            try await holder.close()
            try await start.value
            #expect(cluster.daemons[0].port == port)
            #expect(try await cluster.client().call("Filecoin.ChainHead")["Height"]?.int == 0)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    /// A port the kernel hands out (to a listener on port 0, or to any outgoing connection) could
    /// be taken while its daemon is killed; the daemons' ports are below that range.
    @Test func daemonsListenBelowTheKernelsEphemeralPorts() async throws {
        let rangeText = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let ephemeralStart = rangeText.flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } } ?? 49_152
        try await withCluster(nodes: 3) { cluster in
            let ports = cluster.daemons.map(\.port)
            #expect(Set(ports).count == 3)
            for port in ports { #expect((10_000..<ephemeralStart).contains(port), "port \(port)") }
            // Killed and started again, each daemon is back on its port and serves.
            for daemon in 0..<3 {
                try await cluster.inject(.kill, daemon: daemon)
                try await cluster.inject(.start, daemon: daemon)
                #expect(cluster.daemons[daemon].port == ports[daemon])
                #expect(try await cluster.client(daemon).call("Filecoin.ChainHead")["Height"]?.int == 0)
            }
        }
    }
}

/// Log messages into a `LogCapture`.
private struct LineCapture: LogHandler {
    let sink: @Sendable (String) -> Void
    var logLevel: Logger.Level = .debug
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) { self.sink(event.message.description) }
}
