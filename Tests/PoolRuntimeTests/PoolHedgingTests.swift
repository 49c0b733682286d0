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

    /// A pool over `nodes` hedging after a fixed 100 ms on timers the test fires; n0 takes reads
    /// at once and answers when the test says.
    func immediateHedgingPool(_ nodes: [FakeNode], observer: RecordingObserver = RecordingObserver()) async -> (Pool, ManualTimers) {
        nodes[0].startImmediately()
        let timers = ManualTimers()
        let pool = await makePool(
            nodes,
            settings: {
                $0.defaultPolicy = .oneByIndexAsc; $0.hedgeDelay = .after(GoDuration(milliseconds: 100))
            },
            observer: observer, scheduler: timers)
        return (pool, timers)
    }

    /// Starts a StateGetActor read without a task; nil, with the failure recorded, when it needed one.
    func startRead(_ pool: Pool) -> PoolImmediateCallTests.Replies? {
        let replies = PoolImmediateCallTests.Replies()
        guard case .started = pool.startImmediately(call(.stateGetActor), completion: replies.record) else {
            Issue.record("the read did not start at once")
            return nil
        }
        return replies
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

    /// The first node's late reply, after the hedge won on the immediate path, changes nothing:
    /// an answer is not delivered twice, and the cancellation of its given-up call (what an
    /// upstream socket reports) is no failure to retry or log.
    @Test(arguments: [NodeReply.result(Array("\"late\"".utf8)), .unreachable(.maybeSent, detail: "CancellationError()")])
    func aSilentNodeCostsOneHedgeDelayOnTheImmediatePath(late: NodeReply) async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes[0].startImmediately()
        let clock = ManualClock()
        let observer = RecordingObserver()
        let pool = await self.hedgingPool(nodes, observer: observer, clock: clock)
        guard let replies = self.startRead(pool) else { return }
        await clock.waitForSleepers(1, lasting: .milliseconds(100))
        clock.advance(by: .milliseconds(100))
        #expect(await replies.first() == .result(Array("\"ok\"".utf8), node: 1))
        // The first node's call was given up upstream.
        #expect(nodes[0].abandoned == 1)
        nodes[0].answerImmediate(late)
        #expect(replies.all.count == 1)
        // Reported by the hedge once it has answered the caller.
        await observer.waitForEvent(containing: "hedge won Filecoin.StateGetActor on n1")
        #expect(!observer.all.contains { $0.hasPrefix("retry") })
    }

    @Test func aHedgeTheBudgetRefusesLeavesTheFirstNodesFailureToTheRetry() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let observer = RecordingObserver()
        let (pool, timers) = await self.immediateHedgingPool(nodes, observer: observer)
        // Every hedge is spent: many reads were hedged at once, as when a daemon falls silent under load.
        while pool.latency.spend() {}
        guard let replies = self.startRead(pool) else { return }
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
        nodes[1].hangUntilReset()
        let (pool, timers) = await self.immediateHedgingPool(nodes)
        guard let replies = self.startRead(pool) else { return }
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

    /// A daemon's definite error from the hedge is the caller's answer at once, as on the task
    /// path: the first node may be stuck on this call for good while its socket stays up.
    @Test func aHedgesDefiniteErrorDoesNotWaitForASilentFirstNode() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes[1].answerAlways(.error(code: 1, message: "parsing address: invalid address payload"))
        let (pool, timers) = await self.immediateHedgingPool(nodes)
        guard let replies = self.startRead(pool) else { return }
        timers.fireAll()
        // n0 never answers; before the fix the caller waited for it.
        #expect(await replies.first() == .error(code: 1, message: "parsing address: invalid address payload", node: 1))
        #expect(nodes[0].abandoned == 1)
        #expect(replies.all.count == 1)
    }

    /// The first node and its hedge each close their connection over the request: two drops
    /// between them, so no third daemon gets it, as on the task path. Before the fix the hedge
    /// counted only its own drop and went on to the third node.
    @Test func dropsOfTheFirstNodeAndItsHedgeAddUp() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let (entered, release) = nodes[1].answerWhenReleased(.unreachable(.dropped, detail: "closed by the server after this request"))
        let observer = RecordingObserver()
        let (pool, timers) = await self.immediateHedgingPool(nodes, observer: observer)
        guard let replies = self.startRead(pool) else { return }
        // The hedge delay passes: n1 has the request too.
        timers.fireAll()
        var arrivals = entered.makeAsyncIterator()
        await arrivals.next()
        // n0 drops its connection, then n1.
        #expect(nodes[0].answerImmediate(.unreachable(.dropped, detail: "closed by the server after this request")))
        release.yield()
        guard case .failed(let text) = await replies.first() else {
            Issue.record("expected a failure, got \(replies.all)")
            return
        }
        #expect(text.hasSuffix(Pool.notSentToAThird))
        #expect(nodes[2].calls.isEmpty)
        #expect(replies.all.count == 1)
    }

    /// A hedged read whose caller gave up before its first attempt (a hedge's task cancelled as
    /// it starts, when the last caller of a flight leaves) sends nothing upstream.
    @Test func aHedgedReadGivenUpBeforeItStartsSendsNothing() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await self.hedgingPool(nodes, observer: RecordingObserver(), clock: ManualClock())
        guard case .ready(let plan) = await pool.plan(call(.stateGetActor)) else {
            Issue.record("no plan")
            return
        }
        // What the immediate path's hedge task runs: the other nodes, from the second.
        let reply = await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await pool.tryInOrder(call(.stateGetActor), plan: plan, from: 1)
        }.value
        #expect(reply == .failed("context canceled"))
        #expect(nodes.allSatisfy { $0.calls.isEmpty }, "\(nodes.map(\.calls))")
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
        let estimates = LatencyEstimates()
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

    /// An answered read's hedge timer may stay armed until its delay passes, holding the read:
    /// only a small read is armed that way; one with large params is cancelled by its answer,
    /// so a client's large reads are not kept for a hedge delay after they were answered.
    @Test func onlySmallReadsLeaveTheirHedgeTimerArmed() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes.forEach { $0.startImmediately() }
        let timers = ArmingRecorder()
        let pool = await makePool(
            nodes, settings: { $0.defaultPolicy = .oneByIndexAsc; $0.hedgeDelay = .after(GoDuration(milliseconds: 100)) }, scheduler: timers)
        let large = "[\"" + String(repeating: "a", count: Pool.uncancelledHedgeParamsLimit) + "\"]"
        for (params, armed) in [("[]", ["target"]), (large, ["target", "closure", "cancelled"])] {
            let read = PoolCall(id: .v1(.stateGetActor), method: "Filecoin.StateGetActor", version: .v1, params: Array(params.utf8))
            let replies = PoolImmediateCallTests.Replies()
            guard case .started = pool.startImmediately(read, completion: replies.record) else {
                Issue.record("the read did not start at once")
                return
            }
            #expect(nodes[0].answerImmediate(.result(Array("\"ok\"".utf8))))
            #expect(await replies.first() == .result(Array("\"ok\"".utf8), node: 0))
            #expect(timers.all == armed, "params of \(params.utf8.count) bytes")
        }
    }

    /// The percentile the auto delay follows is the one a sort gives, duplicates included.
    @Test func theWindowsPercentileMatchesASort() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for trial in 0..<500 {
            let count = 16 + trial % 49
            let samples = (0..<count).map { _ -> UInt32 in
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                // Few distinct values in some trials, so equal samples are common.
                return UInt32(truncatingIfNeeded: seed >> 33) % (trial % 3 == 0 ? 4 : 100_000)
            }
            let index = min(count - 1, count * 95 / 100)
            #expect(LatencyWindow.largest(rank: count - index, of: samples) == samples.sorted()[index], "\(samples)")
        }
    }

    @Test func theBudgetKeepsHedgesAboutOneReadInTen() {
        let estimates = LatencyEstimates()
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
    /// What happens to an immediate call, in order.
    enum Event {
        case hedgeDue, hedgeRefusedByBudget, firstReplied(final: Bool), followerAnswered(isFinal: Bool), abandon
    }

    /// The state machine's answer to each event, as text ("hedge", "no hedge", or the action).
    func outcomes(_ events: [Event]) -> [String] {
        var state = ImmediateCallState()
        return events.map { event in
            switch event {
            case .hedgeDue: return state.hedgeDue() ? "hedge" : "no hedge"
            case .hedgeRefusedByBudget: return state.hedgeDue(withinBudget: { false }) ? "hedge" : "no hedge"
            case .firstReplied(let final): return "\(state.firstReplied(final: final))"
            case .followerAnswered(let isFinal):
                let action = state.followerAnswered(isFinal: isFinal)
                if action == .wait { state.keepHedgeAnswer(.failed("every node failed")) }
                return "\(action)"
            case .abandon:
                state.abandon()
                return "abandoned"
            }
        }
    }

    @Test func theFirstAnswerWinsWhileWaiting() {
        #expect(self.outcomes([.firstReplied(final: true), .hedgeDue]) == ["deliver", "no hedge"])
    }

    @Test func aFailureStartsOneRetryAndTheRetryAnswers() {
        #expect(
            self.outcomes([.firstReplied(final: false), .hedgeDue, .followerAnswered(isFinal: false)]) == ["retry", "no hedge", "deliver"])
    }

    @Test func aHedgeResultWinsAndTheFirstReplyIsIgnored() {
        #expect(
            self.outcomes([.hedgeDue, .followerAnswered(isFinal: true), .firstReplied(final: true)]) == ["hedge", "deliver", "ignore"])
    }

    @Test func aFailedHedgeWaitsForTheFirstNode() {
        #expect(
            self.outcomes([.hedgeDue, .followerAnswered(isFinal: false), .firstReplied(final: false)]) == [
                "hedge", "wait", #"deliverHedgeAnswer(PoolRuntime.PoolReply.failed("every node failed"))"#,
            ])
        #expect(
            self.outcomes([.hedgeDue, .followerAnswered(isFinal: false), .firstReplied(final: true)]) == ["hedge", "wait", "deliver"])
    }

    @Test func aHedgeTheBudgetRefusesLeavesTheCallWaitingOnItsFirstNode() {
        #expect(self.outcomes([.hedgeRefusedByBudget, .firstReplied(final: false)]) == ["no hedge", "retry"])
    }

    @Test func aHedgeFailingAfterTheFirstNodeFailedIsDelivered() {
        #expect(
            self.outcomes([.hedgeDue, .firstReplied(final: false), .followerAnswered(isFinal: false)]) == ["hedge", "ignore", "deliver"])
    }

    @Test func aCallGivenUpIsAnsweredCancelledOnce() {
        #expect(
            self.outcomes([.hedgeDue, .abandon, .firstReplied(final: true), .followerAnswered(isFinal: true)]) == [
                "hedge", "abandoned", "deliverCancelled", "ignore",
            ])
        #expect(self.outcomes([.abandon, .hedgeDue, .firstReplied(final: true)]) == ["abandoned", "no hedge", "deliverCancelled"])
    }
}

/// Records how each hedge timer is armed: the read itself as the target (never cancelled), or a
/// closure whose handle is cancelled; timers never fire.
final class ArmingRecorder: PoolScheduler {
    private let events = Mutex<[String]>([])

    private struct Handle: PoolCancellable {
        let recorder: ArmingRecorder

        func cancel() { self.recorder.events.withLock { $0.append("cancelled") } }
    }

    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> any PoolCancellable {
        self.events.withLock { $0.append("closure") }
        return Handle(recorder: self)
    }

    func schedule(after delay: Duration, firing target: any PoolTimerTarget) -> (any PoolCancellable)? {
        self.events.withLock { $0.append("target") }
        return nil
    }

    func task(_ work: @escaping @Sendable () async -> Void) -> Task<Void, Never> { Task { await work() } }

    var all: [String] { self.events.withLock { $0 } }
}

/// Timers the test fires itself, at a known point; attempt tasks run as plain tasks.
final class ManualTimers: PoolScheduler {
    private let timers = Mutex<[@Sendable () -> Void]>([])

    func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> any PoolCancellable {
        self.timers.withLock { $0.append(body) }
        // Never cancelled: a body whose moment passed finds nothing to do.
        return NothingToCancel()
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
