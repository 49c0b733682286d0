// Coalesced reads: identical reads in flight share one upstream call; each caller gets the
// answer, a caller that leaves is answered alone, and the last to leave gives the call up.

import GeneratedRoutes
import PoolRuntime
import RouteModel
import Testing

@Suite(.timeLimit(.minutes(1))) struct ReadFlightsTests {
    static func read(_ actor: String = "f01000") -> PoolCall {
        PoolCall(
            id: .v1(.stateGetActor), method: "Filecoin.StateGetActor", version: .v1, params: Array("[\"\(actor)\",[]]".utf8),
            facts: CallFacts())
    }

    func pool(_ nodes: [FakeNode]) async -> Pool {
        nodes.forEach { $0.startImmediately() }
        return await makePool(nodes) { $0.hedgeDelay = .off }
    }

    @Test func tenIdenticalReadsInFlightShareOneUpstreamCall() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await self.pool(nodes)
        let replies = (0..<10).map { _ in PoolImmediateCallTests.Replies() }
        for reply in replies {
            guard case .started = pool.startImmediately(Self.read(), completion: reply.record) else {
                Issue.record("the read did not start at once")
                return
            }
        }
        // Another actor is another call.
        let other = PoolImmediateCallTests.Replies()
        _ = pool.startImmediately(Self.read("f01001"), completion: other.record)
        #expect(nodes.map { $0.calls.count }.reduce(0, +) == 2)
        while nodes.contains(where: { $0.answerImmediate(.result(Array("\"actor\"".utf8))) }) {}
        for reply in replies { #expect(await reply.first() == .result(Array("\"actor\"".utf8), node: 0)) }
        #expect(replies.allSatisfy { $0.all.count == 1 })
        #expect(pool.coalescedReads["StateGetActor"] == 9)
        // Finished: the next identical read asks again.
        let later = PoolImmediateCallTests.Replies()
        _ = pool.startImmediately(Self.read(), completion: later.record)
        #expect(nodes.map { $0.calls.count }.reduce(0, +) == 3)
    }

    @Test func aCallerThatLeavesIsAnsweredAloneAndTheLastToLeaveGivesTheCallUp() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await self.pool(nodes)
        let (first, second) = (PoolImmediateCallTests.Replies(), PoolImmediateCallTests.Replies())
        guard case .started(let leaveFirst) = pool.startImmediately(Self.read(), completion: first.record),
            case .started(let leaveSecond) = pool.startImmediately(Self.read(), completion: second.record)
        else {
            Issue.record("the reads did not start at once")
            return
        }
        leaveFirst.cancel()
        #expect(await first.first() == .failed("context canceled"))
        #expect(nodes.map(\.abandoned).reduce(0, +) == 0)
        leaveSecond.cancel()
        #expect(await second.first() == .failed("context canceled"))
        #expect(nodes.map(\.abandoned).reduce(0, +) == 1)
        // A read after every caller left does not join the call given up.
        let third = PoolImmediateCallTests.Replies()
        _ = pool.startImmediately(Self.read(), completion: third.record)
        #expect(nodes.map { $0.calls.count }.reduce(0, +) == 2)
        while nodes.contains(where: { $0.answerImmediate(.result(Array("\"fresh\"".utf8))) }) {}
        #expect(await third.first() == .result(Array("\"fresh\"".utf8), node: 0))
        #expect(first.all.count == 1 && second.all.count == 1)
    }

    /// Thousands of callers of one flight leave one by one, in any order (a client's calls
    /// cancelled, its connections closed): each is answered alone, once, the upstream call
    /// stays, and the caller that stays gets the daemon's answer.
    @Test func thousandsOfCallersLeaveOneByOneAndTheOneThatStaysIsAnswered() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await self.pool(nodes)
        let replies = (0..<5_000).map { _ in PoolImmediateCallTests.Replies() }
        var seats: [any PoolCancellable] = []
        for reply in replies {
            guard case .started(let seat) = pool.startImmediately(Self.read(), completion: reply.record) else {
                Issue.record("the read did not start at once")
                return
            }
            seats.append(seat)
        }
        #expect(nodes.map { $0.calls.count }.reduce(0, +) == 1)
        // Every caller but the one that started the flight leaves.
        for index in (1..<seats.count).shuffled() { seats[index].cancel() }
        #expect(replies.dropFirst().allSatisfy { $0.all == [.failed("context canceled")] })
        #expect(nodes.map(\.abandoned).reduce(0, +) == 0)
        while nodes.contains(where: { $0.answerImmediate(.result(Array("\"actor\"".utf8))) }) {}
        #expect(await replies[0].first() == .result(Array("\"actor\"".utf8), node: 0))
        #expect(replies[0].all.count == 1)
    }
}
