// One request that makes daemons close their connection: a call meeting that is retried on
// one other node at most; a large request dropped twice is then refused for a while, so it
// cannot take every daemon down. Innocent calls that happened to be in flight go on.

import GeneratedRoutes
import RouteModel
import Testing

@testable import PoolRuntime

@Suite struct RequestQuarantineTests {
    static let poison = String(repeating: "p", count: 70_000)

    func balance(_ address: String) -> PoolCall {
        PoolCall(id: .v1(.walletBalance), method: "Filecoin.WalletBalance", version: .v1, params: Array("[\"\(address)\"]".utf8))
    }

    /// Every daemon closes its connection over requests naming `poison` (as a daemon that
    /// cannot take a request does), and answers the others.
    func nodes(poison: String = Self.poison) -> [FakeNode] {
        let poisoned = Array("[\"\(poison)\"]".utf8)
        return (0..<3).map { index in
            let node = FakeNode(name: "n\(index)")
            node.answer { call in
                call.params == poisoned
                    ? .unreachable(.dropped, detail: "closed by the server after this request") : .result(Array("\"1\"".utf8))
            }
            return node
        }
    }

    @Test("a large request two daemons dropped their connection over fails, reaches no third, and is then refused")
    func aPoisonedRequestReachesTwoDaemonsAtMost() async {
        let nodes = self.nodes()
        let observer = RecordingObserver()
        let clock = ManualClock()
        let pool = await makePool(nodes, settings: { $0.hedgeDelay = .off }, observer: observer, clock: clock)
        guard case .failed(let text) = await pool.call(self.balance(Self.poison)) else { Issue.record("the call did not fail"); return }
        #expect(text.contains("two daemons closed their connection"))
        #expect(nodes.map(\.calls.count).reduce(0, +) == 2)
        // Identical calls are refused at once, reaching no daemon; other calls are served.
        guard case .failed = await pool.call(self.balance(Self.poison)) else { Issue.record("the call was not refused"); return }
        #expect(nodes.map(\.calls.count).reduce(0, +) == 2)
        #expect(observer.all.contains("refused quarantined Filecoin.WalletBalance"))
        guard case .result = await pool.call(self.balance("f01000")) else { Issue.record("an innocent call failed"); return }
        // After the quarantine the request is tried again.
        clock.advance(by: RequestQuarantine.period + .seconds(1))
        let before = nodes.map(\.calls.count).reduce(0, +)
        _ = await pool.call(self.balance(Self.poison))
        #expect(nodes.map(\.calls.count).reduce(0, +) > before)
    }

    @Test("a small request dropped twice fails that call but is never refused to later calls")
    func aSmallRequestIsNeverQuarantined() async {
        let nodes = self.nodes(poison: "f01000")
        let observer = RecordingObserver()
        let pool = await makePool(nodes, settings: { $0.hedgeDelay = .off }, observer: observer)
        guard case .failed(let text) = await pool.call(self.balance("f01000")) else { Issue.record("the call did not fail"); return }
        #expect(text.contains("not sent to a third"))
        _ = await pool.call(self.balance("f01000"))
        #expect(nodes.map(\.calls.count).reduce(0, +) == 4)
        #expect(!observer.all.contains { $0.hasPrefix("quarantined") || $0.hasPrefix("refused") })
    }

    @Test("identical calls each dropped once (the last sent on sockets of dying daemons) are all answered elsewhere")
    func innocentCallsDroppedOnceGoOn() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        nodes[0].answerAlways(.unreachable(.dropped, detail: "closed by the server after this request"))
        let observer = RecordingObserver()
        let pool = await makePool(
            nodes,
            settings: {
                $0.hedgeDelay = .off; $0.primarySeed = 0
            }, observer: observer)
        for _ in 0..<5 {
            let answer = await pool.call(self.balance("f01000"))
            guard case .result = answer else { Issue.record("not answered: \(answer)"); return }
        }
        #expect(!observer.all.contains { $0.hasPrefix("quarantined") })
    }

    @Test("the quarantine refuses a request for its period and stays bounded")
    func quarantineValue() {
        var quarantine = RequestQuarantine()
        let poison = RequestKey(self.balance("poison"))
        let other = RequestKey(self.balance("other"))
        quarantine.quarantine(poison, at: .seconds(1))
        #expect(quarantine.isQuarantined(poison, at: .seconds(2)))
        #expect(!quarantine.isQuarantined(other, at: .seconds(2)))
        #expect(quarantine.isActive(at: .seconds(2)))
        #expect(!quarantine.isQuarantined(poison, at: .seconds(1) + RequestQuarantine.period))
        // Expired but not yet forgotten: no call needs to look its request up any more.
        #expect(!quarantine.isActive(at: .seconds(1) + RequestQuarantine.period))
        for index in 0..<5000 { quarantine.quarantine(RequestKey(self.balance("f0\(index)")), at: .seconds(3)) }
        #expect(quarantine.count <= RequestQuarantine.capacity)
    }
}
