// One request that makes daemons close their connection: retried on one other node at most,
// then refused for a while, so it cannot take every daemon down; other requests go on.

import GeneratedRoutes
import RouteModel
import Testing

@testable import PoolRuntime

@Suite struct RequestQuarantineTests {
    func balance(_ address: String) -> PoolCall {
        PoolCall(id: .v1(.walletBalance), method: "Filecoin.WalletBalance", version: .v1, params: Array("[\"\(address)\"]".utf8))
    }

    /// Every daemon closes its connection over the poisoned request (as a daemon that cannot
    /// take a request does), and answers the others.
    func nodes() -> [FakeNode] {
        (0..<3).map { index in
            let node = FakeNode(name: "n\(index)")
            node.answer { call in
                call.params == Array("[\"poison\"]".utf8)
                    ? .unreachable(.dropped, detail: "closed by the server after this request") : .result(Array("\"1\"".utf8))
            }
            return node
        }
    }

    @Test("a request two daemons dropped their connection over fails, and only two daemons ever get it")
    func aPoisonedRequestReachesTwoDaemonsAtMost() async {
        let nodes = self.nodes()
        let observer = RecordingObserver()
        let clock = ManualClock()
        let pool = await makePool(nodes, observer: observer, clock: clock)
        guard case .failed(let text) = await pool.call(self.balance("poison")) else { Issue.record("the call did not fail"); return }
        #expect(text.contains("two daemons closed their connection"))
        #expect(nodes.map(\.calls.count).reduce(0, +) == 2)
        // Identical calls are refused at once, reaching no daemon; other calls are served.
        guard case .failed = await pool.call(self.balance("poison")) else { Issue.record("the call was not refused"); return }
        #expect(nodes.map(\.calls.count).reduce(0, +) == 2)
        #expect(observer.all.contains("refused quarantined Filecoin.WalletBalance"))
        guard case .result = await pool.call(self.balance("f01000")) else { Issue.record("an innocent call failed"); return }
        // After the quarantine the request is tried again.
        clock.advance(by: RequestQuarantine.period + .seconds(1))
        let before = nodes.map(\.calls.count).reduce(0, +)
        _ = await pool.call(self.balance("poison"))
        #expect(nodes.map(\.calls.count).reduce(0, +) > before)
    }

    @Test("a single drop is retried elsewhere and quarantines nothing")
    func oneDropIsRetried() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        nodes[0].answerAlways(.unreachable(.dropped, detail: "closed by the server after this request"))
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        let answer = await pool.call(self.balance("f01000"))
        guard case .result = answer else { Issue.record("not answered: \(answer)"); return }
        #expect(!observer.all.contains { $0.hasPrefix("quarantined") })
    }

    @Test("the quarantine counts drops per request, forgets them after its period, and stays bounded")
    func quarantineValue() {
        var quarantine = RequestQuarantine()
        let poison = RequestKey(self.balance("poison"))
        let other = RequestKey(self.balance("other"))
        #expect(quarantine.dropped(poison, at: .zero) == false)
        #expect(quarantine.dropped(other, at: .zero) == false)
        #expect(quarantine.dropped(poison, at: .seconds(1)) == true)
        #expect(quarantine.isQuarantined(poison, at: .seconds(2)))
        #expect(!quarantine.isQuarantined(other, at: .seconds(2)))
        #expect(!quarantine.isQuarantined(poison, at: .seconds(1) + RequestQuarantine.period))
        for index in 0..<5000 { _ = quarantine.dropped(RequestKey(self.balance("f0\(index)")), at: .seconds(3)) }
        #expect(quarantine.count <= RequestQuarantine.capacity)
    }
}
