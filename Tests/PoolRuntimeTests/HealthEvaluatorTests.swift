// Smart detection: each disable rule, the cross-node head check, and recovery.

import PoolRuntime
import Testing

@Suite struct HealthEvaluatorTests {
    let healthy = NodeHealth(head: 100, behind: 0, messagePeers: 5, blockPeers: 5)

    func verdicts(_ nodes: [NodeHealth?], _ settings: PoolSettings = PoolSettings()) -> [String?] {
        HealthEvaluator.evaluate(health: nodes, failures: nodes.map { $0 == nil ? "connection refused" : nil }, settings: settings).map {
            $0?.description
        }
    }

    @Test func eachRuleDisablesWithItsReason() {
        var behind = self.healthy
        behind.behind = 3
        var noMessagePeers = self.healthy
        noMessagePeers.messagePeers = 0
        var noBlockPeers = self.healthy
        noBlockPeers.blockPeers = 0
        #expect(
            self.verdicts([self.healthy, behind, noMessagePeers, noBlockPeers, nil]) == [
                nil, "sync behind 3 > MaxSyncBehind 2", "message peers 0 < MinMessagePeers 1", "block peers 0 < MinBlockPeers 1",
                "unreachable: connection refused",
            ])
    }

    @Test func crossNodeCheckComparesWithTheBestHead() {
        var lagging = self.healthy
        lagging.head = 97
        var slightlyBehind = self.healthy
        slightlyBehind.head = 98
        #expect(
            self.verdicts([self.healthy, lagging, slightlyBehind]) == [nil, "head 97 is 3 below the best head 100 > MaxBehindDiff 2", nil])
        // An unreachable node's stale head does not count as the best.
        #expect(self.verdicts([nil, lagging]) == ["unreachable: connection refused", nil])
    }

    /// Each limit is inclusive: a node exactly at it serves; one step past it is disabled.
    @Test func aNodeExactlyAtEachLimitStaysEnabled() {
        var settings = PoolSettings()
        settings.maxSyncBehind = 2
        settings.minMessagePeers = 3
        settings.minBlockPeers = 4
        settings.maxBehindDiff = 2
        let atLimit = NodeHealth(head: 98, behind: 2, messagePeers: 3, blockPeers: 4)
        #expect(self.verdicts([self.healthy, atLimit], settings) == [nil, nil])
        let past = [
            NodeHealth(head: 98, behind: 3, messagePeers: 3, blockPeers: 4),
            NodeHealth(head: 98, behind: 2, messagePeers: 2, blockPeers: 4),
            NodeHealth(head: 98, behind: 2, messagePeers: 3, blockPeers: 3),
            NodeHealth(head: 97, behind: 2, messagePeers: 3, blockPeers: 4),
        ]
        #expect(
            self.verdicts([self.healthy] + past, settings) == [
                nil, "sync behind 3 > MaxSyncBehind 2", "message peers 2 < MinMessagePeers 3", "block peers 3 < MinBlockPeers 4",
                "head 97 is 3 below the best head 100 > MaxBehindDiff 2",
            ])
    }

    @Test func thresholdsAreHotSettings() {
        var behind = self.healthy
        behind.behind = 3
        var settings = PoolSettings()
        settings.maxSyncBehind = 5
        #expect(self.verdicts([behind], settings) == [nil])
        settings.minMessagePeers = 6
        #expect(self.verdicts([behind], settings) == ["message peers 5 < MinMessagePeers 6"])
    }
}
