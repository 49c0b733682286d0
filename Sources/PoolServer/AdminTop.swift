// `FPool.Top`: one snapshot of everything `fpool top` shows: the pool's state, each node's
// health, calls, errors, retries, channels and bound senders, and the calls per method. Totals,
// not rates: the CLI divides the difference between two snapshots by the time between them.

import LotusWire
import PoolRuntime

extension AdminAPI {
    func top() -> JSON {
        let health = self.pool.health
        let totals = self.metrics.totals
        let retries = self.metrics.retries.byNode
        let channels = self.pool.openChannels
        let nodes: [JSON] = self.pool.nodes.map { node in
            let calls = totals.byNode[node.index] ?? (0, 0)
            return [
                "Name": .string(node.name), "Address": .string(node.address), "State": .string(node.state.description),
                "Available": .bool(node.state.isAvailable), "Serving": .bool(node.serving),
                "Head": node.health.map { .int($0.head) } ?? .null, "Behind": node.health.map { .int(Int64($0.behind)) } ?? .null,
                "MessagePeers": node.health.map { .int(Int64($0.messagePeers)) } ?? .null,
                "BlockPeers": node.health.map { .int(Int64($0.blockPeers)) } ?? .null,
                "Calls": .int(Int64(calls.calls)), "Errors": .int(Int64(calls.errors)), "Retries": .int(Int64(retries[node.name] ?? 0)),
                "Channels": .int(Int64(channels[node.index] ?? 0)), "BoundSeeds": .int(Int64(node.boundSeeds)),
            ]
        }
        let methods: [JSON] = totals.byMethod.sorted { $0.key < $1.key }.map { method, counts in
            ["Method": .string(method), "Calls": .int(Int64(counts.calls)), "Errors": .int(Int64(counts.errors))]
        }
        return [
            "Degraded": .bool(health.degraded), "Healthy": .int(Int64(health.healthy)), "Serving": .int(Int64(health.serving)),
            "Detail": .string(health.detail), "Network": health.network.map { .string($0.name) } ?? .null, "Nodes": .array(nodes),
            "Methods": .array(methods),
        ]
    }
}
