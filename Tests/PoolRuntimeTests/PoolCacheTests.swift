// The pool's result cache: a fixed answer of a `cache=` method is asked of a daemon once; an
// error, or a call naming the head (an empty TipSetKey), is asked every time.

import GeneratedRoutes
import PoolRuntime
import RouteModel
import Testing

@Suite(.timeLimit(.minutes(1))) struct PoolCacheTests {
    /// StateGetActor at a named tipset (`fixed`), or at the head.
    static func actorCall(fixed: Bool = true, actor: String = "f01000") -> PoolCall {
        let tipset = fixed ? "[{\"/\":\"bafy-tipset\"}]" : "[]"
        return PoolCall(
            id: .v1(.stateGetActor), method: "Filecoin.StateGetActor", version: .v1,
            params: Array("[\"\(actor)\",\(tipset)]".utf8), facts: Self.facts(fixed: fixed))
    }

    static func facts(fixed: Bool) -> CallFacts {
        var facts = CallFacts()
        facts.fixedTipsets = fixed
        return facts
    }

    static func calls(_ nodes: [FakeNode]) -> Int { nodes.map { $0.calls.count }.reduce(0, +) }

    @Test func aFixedAnswerIsAskedOnceAndServedAgainFromTheCache() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        let first = await pool.call(Self.actorCall())
        #expect(Self.calls(nodes) == 1)
        for _ in 0..<5 { #expect(await pool.call(Self.actorCall()) == first) }
        #expect(Self.calls(nodes) == 1)
        // Other params are another answer.
        _ = await pool.call(Self.actorCall(actor: "f01001"))
        #expect(Self.calls(nodes) == 2)
        #expect(pool.cacheFigures.hits["StateGetActor"] == 5 && pool.cacheFigures.misses["StateGetActor"] == 2)
    }

    @Test func errorsAndHeadRelativeCallsAreAskedEveryTime() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        for _ in 0..<3 { _ = await pool.call(Self.actorCall(fixed: false)) }
        #expect(Self.calls(nodes) == 3)
        // A lagging node's "not found" is no answer to keep, on either node.
        for node in nodes { node.state.withLock { $0.reply = { _ in .error(code: 1, message: "loading tipset: not found") } } }
        let before = Self.calls(nodes)
        for _ in 0..<2 { _ = await pool.call(Self.actorCall(actor: "f09")) }
        #expect(Self.calls(nodes) > before + 1)
        // Once a node answers, that answer is kept.
        for node in nodes { node.state.withLock { $0.reply = { _ in .result(Array("\"found\"".utf8)) } } }
        _ = await pool.call(Self.actorCall(actor: "f09"))
        let answered = Self.calls(nodes)
        guard case .result(let bytes, _) = await pool.call(Self.actorCall(actor: "f09")) else {
            Issue.record("expected the kept answer")
            return
        }
        #expect(bytes == Array("\"found\"".utf8) && Self.calls(nodes) == answered)
    }

    /// v0's StateGetReceipt at a named key is a message search from that key onwards: its
    /// `null` ("not executed yet", or a node without the message) is no answer to keep.
    @Test func aReceiptNotFoundIsAskedAgain() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        for node in nodes { node.answerAlways(.result(Array("null".utf8))) }
        let pool = await makePool(nodes)
        let receipt = PoolCall(
            id: .v0(.stateGetReceipt), method: "Filecoin.StateGetReceipt", version: .v0,
            params: Array(#"[{"/":"bafy-message"},[{"/":"bafy-tipset"}]]"#.utf8), facts: Self.facts(fixed: true))
        #expect(await pool.call(receipt) == .result(Array("null".utf8), node: 0))
        let found = Array(#"{"ExitCode":0,"Return":null,"GasUsed":1}"#.utf8)
        for node in nodes { node.answerAlways(.result(found)) }
        guard case .result(let bytes, _) = await pool.call(receipt) else {
            Issue.record("no receipt")
            return
        }
        #expect(bytes == found)
        #expect(Self.calls(nodes) == 2)
    }

    @Test func cacheBytesZeroTurnsItOffAndApiSetTurnsOneMethodOff() async throws {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        let pool = await makePool(nodes)
        pool.updateSettings { $0.cacheBytes = 0 }
        for _ in 0..<2 { _ = await pool.call(Self.actorCall()) }
        #expect(Self.calls(nodes) == 2)
        pool.updateSettings { $0.cacheBytes = 1 << 20 }
        var override = pool.apiSettings(for: .v1(.stateGetActor))
        override.cache = .none
        try pool.setOverride(override, for: .v1(.stateGetActor))
        for _ in 0..<2 { _ = await pool.call(Self.actorCall()) }
        #expect(Self.calls(nodes) == 4)
        // A write's answer is never kept, whatever the operator asks.
        var push = pool.apiSettings(for: .v1(.mpoolPush))
        push.cache = .content
        #expect(throws: PoolCommandError.self) { try pool.setOverride(push, for: .v1(.mpoolPush)) }
    }
}
