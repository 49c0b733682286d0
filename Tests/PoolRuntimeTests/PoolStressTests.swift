// Many tasks calling while nodes flap and settings change: no crash, consistent counters.
// Run once under the thread sanitizer: swift test --sanitize=thread --filter PoolStressTests

import GeneratedRoutes
import PoolRuntime
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(2))) struct PoolStressTests {
    @Test func callsNodeFlapsAndSettingsTogether() async throws {
        let nodes = (0..<4).map { FakeNode(name: "n\($0)") }
        // Node 3 answers network errors half the time; reads retry elsewhere.
        let flip = Tally()
        nodes[3].answer { _ in
            let fail = flip.add() % 2 == 1
            return fail ? .unreachable(.maybeSent, detail: "reset") : .result(Array("\"ok\"".utf8))
        }
        let pool = await makePool(nodes)
        let answered = Tally()
        let channelCloses = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    for round in 0..<100 {
                        let method: V1Method = [.stateGetActor, .chainHead, .walletBalance, .chainGetTipSet][round % 4]
                        let reply = await pool.call(call(method, sender: worker % 2 == 0 ? "f0\(100 + worker)" : nil))
                        if case .result = reply { answered.add() }
                    }
                }
            }
            group.addTask {
                for _ in 0..<20 {
                    _ = await pool.openChannel(call(.chainNotify)) { event in
                        if event == .closed { channelCloses.add() }
                    }
                }
            }
            group.addTask {
                for round in 0..<40 {
                    nodes[round % 3].health(behind: round % 2 == 0 ? 9 : 0)
                    await pool.heartbeat()
                }
                for node in nodes.prefix(3) { node.health() }
                await pool.heartbeat()
            }
            group.addTask {
                for round in 0..<100 {
                    try pool.setSetting("DefaultPolicy", to: ["OneBySeedRound", "OneByIdRound", "OneByChainHeadDesc"][round % 3])
                    try pool.setSetting("MaxSyncBehind", to: String(round % 10))
                }
            }
            try await group.waitForAll()
        }
        // Every call ended with an answer (some nodes were always up), and the books balance.
        #expect(answered.value == 1600)
        let ids = pool.callIDs
        #expect(ids.values.reduce(0, +) == 1600 + 20)
        let nodeCalls = pool.nodes.map(\.calls).reduce(0, +)
        #expect(nodeCalls >= 1620)
        #expect(nodeCalls == UInt64(nodes.map(\.calls.count).reduce(0, +)) + UInt64(nodes.map(\.channels.count).reduce(0, +)))
        // Channels were closed exactly once each when their node went away, or are still open.
        #expect(channelCloses.value + pool.openChannels.values.reduce(0, +) == 20)
    }
}

/// A counter shared by concurrent tasks.
final class Tally: Sendable {
    private let count = Mutex(0)

    /// Adds one and returns the new value.
    @discardableResult
    func add() -> Int {
        self.count.withLock {
            $0 += 1; return $0
        }
    }
    var value: Int { self.count.withLock { $0 } }
}
