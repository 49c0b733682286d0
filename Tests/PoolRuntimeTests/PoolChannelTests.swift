// Client channels are closed when their node is disabled, paused, exited or restarted.

import GeneratedRoutes
import PoolRuntime
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolChannelTests {
    /// Opens ChainNotify through the pool and records what the client would get.
    func open(_ pool: Pool) async throws -> (channel: PoolChannel, closes: CloseCounter) {
        let closes = CloseCounter()
        let result = await pool.openChannel(call(.chainNotify)) { event in
            if event == .closed { closes.count.withLock { $0 += 1 } }
        }
        return (try result.get(), closes)
    }

    final class CloseCounter: Sendable {
        let count = Mutex(0)
        var value: Int { self.count.withLock { $0 } }
    }

    enum Loss: CaseIterable { case disabled, paused, exited, restarted }

    @Test(arguments: Loss.allCases)
    func channelsCloseOnEveryKindOfNodeLoss(_ loss: Loss) async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        let (channel, closes) = try await self.open(pool)
        let node = nodes[channel.node]
        switch loss {
        case .disabled: node.unreachable()
        case .paused: try await pool.setNode(node.name, .pause)
        case .exited: try await pool.setNode(node.name, .exit)
        case .restarted: node.health(session: "session-after-restart")
        }
        await pool.heartbeat()
        #expect(closes.value == 1)
        #expect(pool.openChannels.isEmpty)
        #expect(node.channels.first?.isCancelled == true)
        #expect(observer.all.contains("\(node.name): closed 1 channels"))
        // The client subscribes again and lands on a healthy node.
        let (again, _) = try await self.open(pool)
        if loss != .restarted { #expect(again.node != channel.node) }
    }

    @Test func healthyNodesKeepTheirChannels() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let (_, closes) = try await self.open(pool)
        await pool.heartbeat()
        await pool.heartbeat()
        #expect(closes.value == 0)
        #expect(pool.openChannels.values.reduce(0, +) == 1)
    }

    @Test func upstreamCloseReachesTheClientOnce() async throws {
        let nodes = [FakeNode(name: "n0")]
        let pool = await makePool(nodes)
        let (_, closes) = try await self.open(pool)
        nodes[0].channels[0].events(.closed)
        nodes[0].channels[0].events(.closed)
        nodes[0].unreachable()
        await pool.heartbeat()
        #expect(closes.value == 1)
    }
}
