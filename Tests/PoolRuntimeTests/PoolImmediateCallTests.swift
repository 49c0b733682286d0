// Calls started without a task (Pool.startImmediately): which calls take that path, how their
// replies are judged and retried, and that a call given up is answered and never retried.

import GeneratedRoutes
import PoolRuntime
import RouteModel
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolImmediateCallTests {
    /// Collects the completion's replies and lets the test await the first.
    final class Replies: Sendable {
        private let state = Mutex<(replies: [PoolReply], waiter: CheckedContinuation<PoolReply, Never>?)>(([], nil))

        func record(_ reply: PoolReply) {
            let waiter = self.state.withLock { state in
                state.replies.append(reply)
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: reply)
        }

        func first() async -> PoolReply {
            await withCheckedContinuation { continuation in
                let ready = self.state.withLock { state -> PoolReply? in
                    if let first = state.replies.first { return first }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }

        var all: [PoolReply] { self.state.withLock { $0.replies } }
    }

    @Test func aReadWhoseNodeIsKnownIsSentAndAnsweredThroughTheCompletion() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        nodes.forEach { $0.startImmediately() }
        let pool = await makePool(nodes) { $0.primarySeed = 4 }
        let replies = Replies()
        try #require(Self.start(call(.stateGetActor), on: pool, into: replies) != nil)
        // Sent to the primary seed's node, counted once, and not answered before the node replies.
        #expect(nodes[1].calls == ["Filecoin.StateGetActor"])
        #expect(pool.callIDs == ["StateGetActor": 1])
        #expect(replies.all.isEmpty)
        #expect(nodes[1].answerImmediate(.result(Array("{\"Nonce\":3}".utf8))))
        #expect(replies.all == [.result(Array("{\"Nonce\":3}".utf8), node: 1)])
    }

    @Test func aLagErrorIsRetriedOnTheOtherNodes() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        nodes.forEach { $0.startImmediately() }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        let replies = Replies()
        try #require(Self.start(call(.stateGetActor), on: pool, into: replies) != nil)
        let first = nodes.firstIndex { !$0.calls.isEmpty }!
        nodes[first].answerImmediate(.error(code: 1, message: "loading tipset {bafy}: get block bafy: ipld: could not find bafy"))
        #expect(await replies.first() == .result(Array("\"ok\"".utf8), node: 1 - first))
        #expect(observer.all.contains { $0.hasPrefix("retry Filecoin.StateGetActor after n\(first): block not found") })
        #expect(replies.all.count == 1)
    }

    @Test func aCallGivenUpIsAnsweredAsCanceledAndNotRetried() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        nodes.forEach { $0.startImmediately() }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        let replies = Replies()
        let giveUp = try #require(Self.start(call(.chainHead), on: pool, into: replies))
        giveUp.cancel()
        #expect(await replies.first() == .failed("context canceled"))
        #expect(nodes.map(\.abandoned).reduce(0, +) == 1)
        #expect(nodes.map(\.calls.count).reduce(0, +) == 1)
        #expect(observer.all.filter { $0.hasPrefix("retry") }.isEmpty)
    }

    @Test func aCallGivenUpWhileItsRetryRunsStopsThere() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        nodes.forEach { $0.startImmediately() }
        nodes[1].hangUntilReset()
        let pool = await makePool(nodes) { $0.defaultPolicy = .oneByIndexAsc }
        let replies = Replies()
        let giveUp = try #require(Self.start(call(.stateGetActor), on: pool, into: replies))
        // n0 lags: the retry goes on to n1, which hangs; the caller gives up meanwhile.
        nodes[0].answerImmediate(.error(code: 1, message: "loading tipset {bafy}: get block bafy: ipld: could not find bafy"))
        await nodes[1].waitForStuckCall()
        giveUp.cancel()
        await nodes[1].reset()
        #expect(await replies.first() == .failed("context canceled"))
        #expect(nodes[2].calls.isEmpty)
        #expect(replies.all.count == 1)
    }

    /// A read that cannot be sent from this thread (no open socket, a wait, a timeout) still
    /// starts here: it leads its flight (`ReadFlights`) on a task of its own, counted once, so
    /// identical reads arriving meanwhile share it. A push takes the caller's task path.
    @Test func readsThatMayWaitRunOnATaskOfTheirOwnAndPushesTakeTheTaskPath() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        // The node cannot start calls from this thread: the read goes on its own task.
        let replies = Replies()
        guard case .started = pool.startImmediately(call(.stateGetActor), completion: replies.record) else {
            Issue.record("a read was handed back")
            return
        }
        #expect(await replies.first() == .result(Array("\"ok\"".utf8), node: 0))
        #expect(pool.callIDs == ["StateGetActor": 1])
        nodes.forEach { $0.startImmediately() }
        // A push is bound to its sender's node and nonce-ordered: handed back, uncounted.
        #expect(Self.needsTask(pool.startImmediately(call(.mpoolPushMessage, sender: "f0100"), completion: { _ in })))
        // The next epoch, which no node has reached yet: the read waits on its task; given up, it ends.
        let waiting = Replies()
        guard case .started(let giveUp) = pool.startImmediately(call(.chainGetTipSetByHeight, height: 101), completion: waiting.record)
        else {
            Issue.record("a waiting read was handed back")
            return
        }
        giveUp.cancel()
        #expect(await waiting.first() == .failed("context canceled"))
        // A route with a timeout runs bounded, on its task.
        try pool.setAPI("StateGetActor", key: "timeout", to: "5s")
        let bounded = Replies()
        guard case .started = pool.startImmediately(call(.stateGetActor), completion: bounded.record) else {
            Issue.record("a bounded read was handed back")
            return
        }
        #expect(await bounded.first() == .result(Array("\"ok\"".utf8), node: 0))
        #expect(pool.callIDs["StateGetActor"] == 2)
        #expect(pool.callsStartedImmediately == 0)
    }

    /// Starts `call` without a task, its replies going to `replies`; nil when it needed a task.
    static func start(_ call: PoolCall, on pool: Pool, into replies: Replies) -> (any PoolCancellable)? {
        guard case .started(let giveUp) = pool.startImmediately(call, completion: { replies.record($0) }) else { return nil }
        return giveUp
    }

    static func needsTask(_ start: ImmediateStart) -> Bool {
        if case .needsTask = start { return true }
        return false
    }
}
