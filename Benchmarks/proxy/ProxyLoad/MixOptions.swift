// The mix case's options: its own daemons and proxies as run.sh started them (a second
// simulator, which may charge a CPU cost per state read, with nginx, the SwiftNIO tunnel and two
// fpools, cache on and off, in front of it), and the shape of the mix.

import ArgumentParser
import Foundation
import LoadKit

/// The mix case's daemons and proxies.
struct MixStack: Sendable {
    /// The simulator and the proxies in front of it; `fpool` is the one with its cache on.
    let setup: Setup
    /// The same fpool with `FPOOL_CACHE_BYTES=0`.
    let uncached: Endpoint
    let uncachedPID: Int32

    /// `setup` with the uncached fpool in fpool's place (for its health and node checks).
    var uncachedSetup: Setup {
        Setup(
            direct: self.setup.direct, fpool: self.uncached, nginx: self.setup.nginx, tunnel: self.setup.tunnel,
            controlPort: self.setup.controlPort, nodes: self.setup.nodes, fpoolPID: self.uncachedPID, nginxPID: self.setup.nginxPID,
            simPID: self.setup.simPID, tunnelPID: self.setup.tunnelPID)
    }
}

struct MixOptions: ParsableArguments {
    @Option(help: "Mix case: port of node 0 of the mix's own simulator (the direct target).") var mixDirectPort: Int?
    @Option(help: "Mix case: node 0's token (direct, nginx and the tunnel).") var mixToken: String?
    @Option(help: "Mix case: nginx's port (in front of the mix's simulator).") var mixNginxPort: Int?
    @Option(help: "Mix case: nginx's master process id.") var mixNginxPid: Int32?
    @Option(help: "Mix case: the SwiftNIO byte tunnel's port.") var mixTunnelPort: Int?
    @Option(help: "Mix case: the tunnel's process id.") var mixTunnelPid: Int32?
    @Option(help: "Mix case: the port of fpool with its cache on.") var mixFpoolPort: Int?
    @Option(help: "Mix case: that fpool's token.") var mixFpoolToken: String?
    @Option(help: "Mix case: that fpool's process id.") var mixFpoolPid: Int32?
    @Option(help: "Mix case: the port of fpool with FPOOL_CACHE_BYTES=0.") var mixNocachePort: Int?
    @Option(help: "Mix case: that fpool's token.") var mixNocacheToken: String?
    @Option(help: "Mix case: that fpool's process id.") var mixNocachePid: Int32?
    @Option(help: "Mix case: the mix simulator's process id.") var mixSimPid: Int32?
    @Option(help: "Mix case: the mix simulator's control endpoint port.") var mixControlPort: Int?

    @Option(
        help: "Mix case: only these targets (direct, nginx, nio-tunnel, fpool-nocache, fpool), comma-separated, measured in this order.")
    var mixTargets = "direct,nginx,nio-tunnel,fpool-nocache,fpool"
    @Option(help: "Mix case: the miners the clients read as (ID addresses; client i is miner i mod count), comma-separated.")
    var mixMiners = "f01000,f01001,f01002"
    @Option(help: "Mix case: WebSocket connections, each with its own ChainNotify subscription.") var mixConnections = 32
    @Option(help: "Mix case: seconds between the tipsets the run adds during a measurement (0: only the simulator's block time).")
    var mixHeadInterval = 1.0
    @Option(help: "Mix case: the --read-cost run.sh gave the mix's simulator, for the report (empty: none).") var mixReadCost = ""

    /// The mix's daemons and proxies; nil when none were given (the mix is skipped).
    ///
    /// - Throws: when only some were given.
    func stack(nodes: Int) throws -> MixStack? {
        let given: [(String, Bool)] = [
            ("--mix-direct-port", self.mixDirectPort != nil), ("--mix-nginx-port", self.mixNginxPort != nil),
            ("--mix-nginx-pid", self.mixNginxPid != nil), ("--mix-tunnel-port", self.mixTunnelPort != nil),
            ("--mix-tunnel-pid", self.mixTunnelPid != nil), ("--mix-fpool-port", self.mixFpoolPort != nil),
            ("--mix-fpool-token", self.mixFpoolToken != nil), ("--mix-fpool-pid", self.mixFpoolPid != nil),
            ("--mix-nocache-port", self.mixNocachePort != nil), ("--mix-nocache-token", self.mixNocacheToken != nil),
            ("--mix-nocache-pid", self.mixNocachePid != nil), ("--mix-sim-pid", self.mixSimPid != nil),
            ("--mix-control-port", self.mixControlPort != nil),
        ]
        if given.allSatisfy({ !$0.1 }) { return nil }
        let missing = given.filter { !$0.1 }.map(\.0)
        guard missing.isEmpty, let directPort = self.mixDirectPort, let nginxPort = self.mixNginxPort, let nginxPID = self.mixNginxPid,
            let tunnelPort = self.mixTunnelPort, let tunnelPID = self.mixTunnelPid, let fpoolPort = self.mixFpoolPort,
            let fpoolToken = self.mixFpoolToken, let fpoolPID = self.mixFpoolPid, let uncachedPort = self.mixNocachePort,
            let uncachedToken = self.mixNocacheToken, let uncachedPID = self.mixNocachePid, let simPID = self.mixSimPid,
            let controlPort = self.mixControlPort
        else { throw ValidationError("the mix case needs all of its stack; missing \(missing.joined(separator: ", "))") }
        func endpoint(_ name: String, _ port: Int, _ token: String?) -> Endpoint {
            Endpoint(name: name, host: "127.0.0.1", port: port, path: "/rpc/v1", token: token)
        }
        return MixStack(
            setup: Setup(
                direct: endpoint("direct", directPort, self.mixToken), fpool: endpoint("fpool", fpoolPort, fpoolToken),
                nginx: endpoint("nginx", nginxPort, self.mixToken), tunnel: endpoint("nio-tunnel", tunnelPort, self.mixToken),
                controlPort: controlPort, nodes: nodes, fpoolPID: fpoolPID, nginxPID: nginxPID, simPID: simPID, tunnelPID: tunnelPID),
            uncached: endpoint("fpool-nocache", uncachedPort, uncachedToken), uncachedPID: uncachedPID)
    }

    /// The miners, checked.
    func miners() throws -> [MixMiner] {
        let miners = try self.mixMiners.split(separator: ",").map { try MixMiner(String($0.trimmingCharacters(in: .whitespaces))) }
        guard !miners.isEmpty else { throw ValidationError("--mix-miners: name at least one miner") }
        return miners
    }
}
