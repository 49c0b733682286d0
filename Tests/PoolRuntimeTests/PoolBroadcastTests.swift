// Broadcasting already signed pushes (AllWithFirstSucceed on MpoolPush): every daemon gets the
// message, the first success answers, and no push a daemon signs may be broadcast.

import FPoolTestSupport
import GeneratedRoutes
import PoolRuntime
import RouteModel
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolBroadcastTests {
    static let message = SignedMessageFacts(nonce: 7, cid: "bafy-msg-7", json: Array("{\"nonce\":7}".utf8))

    static func push() -> PoolCall {
        PoolCall(
            id: .v1(.mpoolPush), method: "Filecoin.MpoolPush", version: .v1, params: Array("[]".utf8),
            facts: CallFacts(sender: "f01001", signedMessage: Self.message))
    }

    static func broadcasting(_ pool: Pool) throws {
        var override = pool.apiSettings(for: .v1(.mpoolPush))
        override.policy = .fixed(.allWithFirstSucceed)
        try pool.setOverride(override, for: .v1(.mpoolPush))
    }

    @Test func theFirstSuccessAnswersAndTheSlowerDaemonsStillGetTheMessage() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        try Self.broadcasting(pool)
        // n0 takes its time; n1 already has the message (another daemon spread it); n2 refuses.
        let (release, released) = AsyncStream.makeStream(of: Void.self)
        nodes[0].state.withLock {
            $0.reply = { _ in
                for await _ in release { break }
                return .result(Array("{\"/\":\"bafy-msg-7\"}".utf8))
            }
        }
        nodes[1].state.withLock {
            $0.reply = { _ in
                .error(code: 1, message: "message from f01001 with nonce 7 already in mpool: message with nonce already exists")
            }
        }
        nodes[2].state.withLock { $0.reply = { _ in .error(code: 1, message: "gas fee cap too low") } }
        // Answered while n0 still holds the message: "already in mpool" is a success.
        #expect(await pool.call(Self.push()) == .result(Array("{\"/\":\"bafy-msg-7\"}".utf8), node: 1))
        #expect(nodes.allSatisfy { $0.calls == ["Filecoin.MpoolPush"] })
        await observer.waitForEvent(containing: "to n2:")
        released.yield()
        await observer.waitForEvent(containing: "to n0:")
        #expect(
            Set(observer.all.filter { $0.hasPrefix("broadcast") }) == [
                "broadcast Filecoin.MpoolPush to n0: accepted", "broadcast Filecoin.MpoolPush to n1: already in its mpool",
                "broadcast Filecoin.MpoolPush to n2: refused: gas fee cap too low",
            ])
    }

    @Test func whenEveryDaemonRefusesTheClientGetsARefusalNotALostConnection() async throws {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        try Self.broadcasting(pool)
        nodes[0].state.withLock { $0.reply = { _ in .unreachable(.maybeSent, detail: "connection reset") } }
        nodes[1].state.withLock { $0.reply = { _ in .error(code: 1, message: "not enough funds") } }
        nodes[2].state.withLock { $0.reply = { _ in .error(code: 1, message: "not enough funds") } }
        guard case .error(_, let message, _) = await pool.call(Self.push()) else {
            Issue.record("expected a daemon's refusal")
            return
        }
        #expect(message == "not enough funds")
    }

    @Test func onlyAlreadySignedPushesMayBeBroadcast() throws {
        let pool = Pool(environment: PoolEnvironment(), connect: { _ in FakeNode(name: "unused") })
        try Self.broadcasting(pool)
        var pushMessage = pool.apiSettings(for: .v1(.mpoolPushMessage))
        pushMessage.policy = .fixed(.allWithFirstSucceed)
        let refused = #expect(throws: PoolCommandError.self) { try pool.setOverride(pushMessage, for: .v1(.mpoolPushMessage)) }
        #expect(refused?.description.hasPrefix("MpoolPushMessage cannot take AllWithFirstSucceed: each daemon would pick a nonce") == true)
        // Any other policy on a signed push still means nothing: it goes to its sender's node.
        var batch = pool.apiSettings(for: .v1(.mpoolBatchPush))
        batch.policy = .fixed(.oneByIdRound)
        let moved = #expect(throws: PoolCommandError.self) { try pool.setOverride(batch, for: .v1(.mpoolBatchPush)) }
        #expect(moved?.description.hasSuffix("(AllWithFirstSucceed broadcasts it to every daemon)") == true)
        batch.policy = .fixed(.allWithFirstSucceed)
        try pool.setOverride(batch, for: .v1(.mpoolBatchPush))
    }
}
