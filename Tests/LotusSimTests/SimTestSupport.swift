// Starting simulated networks and talking to them the way lotus-miner does, over loopback.

import LotusSim
import LotusWire

/// Runs `body` against a fresh network whose chain moves only when the test says so (unless
/// given a `blockTime`).
func withCluster<T>(
    nodes: Int = 3, blockTime: Duration? = nil, propagationDelay: Duration = .zero, controlPort: Int? = nil,
    networkName: String = "fpoolsim", behindMode: SimBehindMode = .headAge, stateReadCost: Duration = .zero,
    _ body: (SimCluster) async throws -> T
) async throws -> T {
    var configuration = SimConfiguration(
        nodes: nodes, blockTime: blockTime, propagationDelay: propagationDelay, controlPort: controlPort, networkName: networkName,
        behindMode: behindMode)
    configuration.stateReadCost = stateReadCost
    let cluster = try await SimCluster.start(configuration)
    do {
        let result = try await body(cluster)
        await cluster.stop()
        return result
    } catch {
        await cluster.stop()
        throw error
    }
}

extension SimCluster {
    /// A WebSocket client on `daemon`, with its admin token unless told otherwise.
    func client(_ daemon: Int = 0, path: String = "/rpc/v1", token: String?? = .none) async throws -> LotusWSClient {
        let info = self.daemons[daemon]
        let bearer: String? = token ?? info.adminToken
        return try await LotusWSClient.connect(host: "127.0.0.1", port: info.port, path: path, token: bearer)
    }

    /// One HTTP POST call on `daemon`.
    func http(_ daemon: Int = 0, _ method: String, _ params: [JSON] = [], path: String = "/rpc/v1", token: String?? = .none) async throws
        -> LotusHTTPClient.Response
    {
        let info = self.daemons[daemon]
        let bearer: String? = token ?? info.adminToken
        return try await LotusHTTPClient.call(host: "127.0.0.1", port: info.port, path: path, method: method, params: params, token: bearer)
    }
}

/// A message from fixture account `index` to a fresh key address.
func transfer(from index: Int = 0, to: String = "f1sim2recipientaaaaaaaaaaaaaaaaaaaaaaaaaaaa", value: String = "1000") -> JSON {
    [
        "Version": 0, "To": .string(to), "From": .string(SimFixtures.accounts[index].key), "Nonce": 0, "Value": .string(value),
        "GasLimit": 0, "GasFeeCap": "0", "GasPremium": "0", "Method": 0, "Params": "",
    ]
}

/// Collects the next `count` values of a channel.
func next(_ count: Int, of subscription: LotusSubscription) async -> [JSON] {
    var values: [JSON] = []
    for await value in subscription.values {
        values.append(value)
        if values.count == count { break }
    }
    return values
}
