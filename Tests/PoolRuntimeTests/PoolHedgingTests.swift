// Hedged reads: a read whose node is silent past the hedge delay is asked of the next node too;
// the first answer wins; writes are never hedged; the budget and the delay follow the traffic.

import GeneratedRoutes
import RouteModel
import Synchronization
import Testing

@testable import PoolRuntime

@Suite(.timeLimit(.minutes(1))) struct PoolHedgingTests {
    /// Nodes tried in index order, hedged after a fixed 100 ms.
    func hedgingPool(_ nodes: [FakeNode], observer: RecordingObserver, clock: ManualClock) async -> Pool {
        await makePool(
            nodes,
            settings: {
                $0.defaultPolicy = .oneByIndexAsc; $0.hedgeDelay = .after(GoDuration(milliseconds: 100))
            },
            observer: observer, clock: clock)
    }

    @Test func aSilentNodeCostsOneHedgeDelayOnTheTaskPath() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let observer = RecordingObserver()
        let pool = await self.hedgingPool(nodes, observer: observer, clock: clock)
        // n0 reads the request and never answers, and ignores cancellation (a black hole).
        nodes[0].hangUntilReset()
        async let reply = pool.call(call(.stateGetActor))
        await nodes[0].waitForStuckCall()
        await clock.waitForSleepers(1, lasting: .milliseconds(100))
        clock.advance(by: .milliseconds(100))
        #expect(await reply == .result(Array("\"ok\"".utf8), node: 1))
        #expect(observer.all.contains("hedge Filecoin.StateGetActor after n0"))
        #expect(observer.all.contains("hedge won Filecoin.StateGetActor on n1"))
        await nodes[0].reset()
    }

    @Test func aSilentNodeCostsOneHedgeDelayOnTheImmediatePath() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes[0].startImmediately()
        let clock = ManualClock()
        let observer = RecordingObserver()
        let pool = await self.hedgingPool(nodes, observer: observer, clock: clock)
        let replies = PoolImmediateCallTests.Replies()
        guard case .started = pool.startImmediately(call(.stateGetActor), completion: replies.record) else {
            Issue.record("the read did not start at once")
            return
        }
        await clock.waitForSleepers(1, lasting: .milliseconds(100))
        clock.advance(by: .milliseconds(100))
        #expect(await replies.first() == .result(Array("\"ok\"".utf8), node: 1))
        // The first node's call was given up upstream; its late answer changes nothing.
        #expect(nodes[0].abandoned == 1)
        nodes[0].answerImmediate(.result(Array("\"late\"".utf8)))
        #expect(replies.all.count == 1)
        #expect(observer.all.contains("hedge won Filecoin.StateGetActor on n1"))
    }

    @Test func aHedgeTheBudgetRefusesLeavesTheFirstNodesFailureToTheRetry() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes[0].startImmediately()
        let observer = RecordingObserver()
        let timers = ManualTimers()
        let pool = await makePool(
            nodes,
            settings: {
                $0.defaultPolicy = .oneByIndexAsc; $0.hedgeDelay = .after(GoDuration(milliseconds: 100))
            },
            observer: observer, scheduler: timers)
        // Every hedge is spent: many reads were hedged at once, as when a daemon falls silent under load.
        pool.latency.withLock { while $0.spend() {} }
        let replies = PoolImmediateCallTests.Replies()
        guard case .started = pool.startImmediately(call(.stateGetActor), completion: replies.record) else {
            Issue.record("the read did not start at once")
            return
        }
        // The hedge delay passes and the budget refuses the hedge.
        timers.fireAll()
        // The silent node's socket is reset (the heartbeat's doing): its call fails, maybe sent.
        #expect(nodes[0].answerImmediate(.unreachable(.maybeSent, detail: "connection reset")))
        // The retry answers (before the fix the call counted the refused hedge as sent and waited for it for ever).
        #expect(await replies.first() == .result(Array("\"ok\"".utf8), node: 1))
        #expect(!observer.all.contains { $0.hasPrefix("hedge ") })
    }

    @Test func aHedgeThatFailsAfterTheFirstNodeFailedIsTheAnswer() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes[0].startImmediately()
        nodes[1].hangUntilReset()
        let timers = ManualTimers()
        let pool = await makePool(
            nodes,
            settings: {
                $0.defaultPolicy = .oneByIndexAsc; $0.hedgeDelay = .after(GoDuration(milliseconds: 100))
            },
            scheduler: timers)
        let replies = PoolImmediateCallTests.Replies()
        guard case .started = pool.startImmediately(call(.stateGetActor), completion: replies.record) else {
            Issue.record("the read did not start at once")
            return
        }
        // The hedge delay passes: n1 has the call too.
        timers.fireAll()
        await nodes[1].waitForStuckCall()
        // n0 fails while the hedge still works, then the hedge fails too.
        #expect(nodes[0].answerImmediate(.unreachable(.maybeSent, detail: "connection reset")))
        await nodes[1].reset()
        // Before the fix the hedge's failure waited for n0, which had failed already: no answer ever.
        guard case .failed = await replies.first() else {
            Issue.record("expected the hedge's failure, got \(replies.all)")
            return
        }
        #expect(replies.all.count == 1)
    }

    @Test func anAnswerBeforeTheDelaySendsNoHedge() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes[0].startImmediately()
        let clock = ManualClock()
        let observer = RecordingObserver()
        let pool = await self.hedgingPool(nodes, observer: observer, clock: clock)
        let replies = PoolImmediateCallTests.Replies()
        _ = pool.startImmediately(call(.stateGetActor), completion: replies.record)
        await clock.waitForSleepers(1, lasting: .milliseconds(100))
        nodes[0].answerImmediate(.result(Array("\"ok\"".utf8)))
        #expect(await replies.first() == .result(Array("\"ok\"".utf8), node: 0))
        clock.advance(by: .milliseconds(100))
        #expect(nodes[1].calls.isEmpty)
        #expect(!observer.all.contains { $0.hasPrefix("hedge") })
    }

    @Test func writesAndPushesAreNeverHedged() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let clock = ManualClock()
        let observer = RecordingObserver()
        let pool = await self.hedgingPool(nodes, observer: observer, clock: clock)
        nodes[0].answer { _ in
            try? await clock.sleep(for: .seconds(1))
            return .result(Array("\"slow\"".utf8))
        }
        async let reply = pool.call(call(.walletSignMessage))
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        #expect(await reply == .result(Array("\"slow\"".utf8), node: 0))
        #expect(nodes[1].calls.isEmpty && !observer.all.contains { $0.hasPrefix("hedge") })
        let refused = #expect(throws: PoolCommandError.self) { try pool.setAPI("MpoolPushMessage", key: "hedge", to: "50ms") }
        #expect(refused?.description.contains("only reads are hedged") == true)
    }

    @Test func apiWhySaysWhenACallWouldBeHedged() async throws {
        let pool = await makePool((0..<2).map { FakeNode(name: "n\($0)") }, settings: { $0.hedgeDelay = .auto })
        #expect(try pool.explain("StateGetActor").hedge == "after 250ms without an answer, the next node too (HedgeDelay auto)")
        try pool.setAPI("StateGetActor", key: "hedge", to: "off")
        #expect(try pool.explain("StateGetActor").hedge == "off (api set hedge off)")
        #expect(try pool.explain("MpoolPushMessage").hedge == "never: a push is never sent twice")
    }

    @Test func theAutoDelayFollowsTheMethodsAnswerTimes() {
        var estimates = LatencyEstimates()
        let route = RouteID.v1(.stateGetActor)
        #expect(estimates.delay(route, .auto) == LatencyEstimates.initialDelay)
        for _ in 0..<64 { estimates.record(route, .milliseconds(20)) }
        #expect(estimates.delay(route, .auto) == .milliseconds(40))
        // A fast method is not hedged below the floor; a slow one not beyond the ceiling.
        for _ in 0..<64 { estimates.record(route, .microseconds(300)) }
        #expect(estimates.delay(route, .auto) == LatencyEstimates.minimumDelay)
        for _ in 0..<64 { estimates.record(route, .seconds(20)) }
        #expect(estimates.delay(route, .auto) == LatencyEstimates.maximumDelay)
        #expect(estimates.delay(route, .off) == nil)
        #expect(estimates.delay(route, .after(GoDuration(milliseconds: 75))) == .milliseconds(75))
    }

    @Test func theBudgetKeepsHedgesAboutOneReadInTen() {
        var estimates = LatencyEstimates()
        var hedges = 0
        // A thousand reads, every one slow enough to hedge.
        for _ in 0..<1_000 {
            estimates.earn()
            if estimates.spend() { hedges += 1 }
        }
        #expect(hedges <= 110 && hedges >= 90, "\(hedges) hedges")
    }
}

@Suite struct ImmediateCallStateTests {
    @Test func theFirstAnswerWinsWhileWaiting() {
        var state = ImmediateCallState()
        let step1 = state.firstReplied(final: true)
        #expect(step1 == .deliver)
        let step2 = state.hedgeDue()
        #expect(!step2)
    }

    @Test func aFailureStartsOneRetryAndTheRetryAnswers() {
        var state = ImmediateCallState()
        let step3 = state.firstReplied(final: false)
        #expect(step3 == .retry)
        let step4 = state.hedgeDue()
        #expect(!step4)
        let step5 = state.followerAnswered(isResult: false)
        #expect(step5 == .deliver)
    }

    @Test func aHedgeResultWinsAndTheFirstReplyIsIgnored() {
        var state = ImmediateCallState()
        let step6 = state.hedgeDue()
        #expect(step6)
        let step7 = state.followerAnswered(isResult: true)
        #expect(step7 == .deliver)
        let step8 = state.firstReplied(final: true)
        #expect(step8 == .ignore)
    }

    @Test func aFailedHedgeWaitsForTheFirstNode() {
        var state = ImmediateCallState()
        let step9 = state.hedgeDue()
        #expect(step9)
        let step10 = state.followerAnswered(isResult: false)
        #expect(step10 == .wait)
        state.keepHedgeAnswer(.failed("every node failed"))
        let step11 = state.firstReplied(final: false)
        #expect(step11 == .deliverHedgeAnswer(.failed("every node failed")))
        var second = ImmediateCallState()
        _ = second.hedgeDue()
        _ = second.followerAnswered(isResult: false)
        let step12 = second.firstReplied(final: true)
        #expect(step12 == .deliver)
    }

    @Test func aHedgeTheBudgetRefusesLeavesTheCallWaitingOnItsFirstNode() {
        var state = ImmediateCallState()
        let step18 = state.hedgeDue(withinBudget: { false })
        #expect(!step18)
        #expect(state.phase == .waiting)
        let step19 = state.firstReplied(final: false)
        #expect(step19 == .retry)
    }

    @Test func aHedgeFailingAfterTheFirstNodeFailedIsDelivered() {
        var state = ImmediateCallState()
        let step20 = state.hedgeDue()
        #expect(step20)
        let step21 = state.firstReplied(final: false)
        #expect(step21 == .ignore)
        let step22 = state.followerAnswered(isResult: false)
        #expect(step22 == .deliver)
    }

    @Test func aCallGivenUpIsAnsweredCancelledOnce() {
        var state = ImmediateCallState()
        let step13 = state.hedgeDue()
        #expect(step13)
        state.abandon()
        let step14 = state.firstReplied(final: true)
        #expect(step14 == .deliverCancelled)
        let step15 = state.followerAnswered(isResult: true)
        #expect(step15 == .ignore)
        var waiting = ImmediateCallState()
        waiting.abandon()
        let step16 = waiting.hedgeDue()
        #expect(!step16)
        let step17 = waiting.firstReplied(final: true)
        #expect(step17 == .deliverCancelled)
    }
}

/// Timers the test fires itself, at a known point; attempt tasks run as plain tasks.
final class ManualTimers: PoolScheduler {
    private let timers = Mutex<[@Sendable () -> Void]>([])

    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        self.timers.withLock { $0.append(body) }
        // Never cancelled: a body whose moment passed finds nothing to do.
        return {}
    }

    func task(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> { Task { await work() } }

    func fireAll() {
        let due = self.timers.withLock { timers in
            defer { timers = [] }
            return timers
        }
        due.forEach { $0() }
    }
}
