// A daemon that gives no answer is named to the client by its pool name only; what its
// connection said (the daemon's address and port) reaches the observer, for the log.

import GeneratedRoutes
import PoolRuntime
import Testing

@Suite(.timeLimit(.minutes(1))) struct NodeFailureTextTests {
    /// The texts a connection gives: they name the daemon's address, as NIO's errors do.
    static func refused(_ index: Int) -> String { "n\(index): connect to 10.0.0.\(index):1234 refused (errno: 111)" }

    @Test func aReadNoNodeAnswersNamesTheLastNodeNotItsAddress() async {
        let nodes = (0..<3).map { FakeNode(name: "n\($0)") }
        for (index, node) in nodes.enumerated() { node.answerAlways(.unreachable(.notSent, detail: Self.refused(index))) }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        let reply = await pool.call(call(.chainGetTipSet))
        guard case .failed(let text) = reply else {
            Issue.record("expected a failure, got \(reply)")
            return
        }
        #expect(text.hasSuffix("is unreachable: the request was not sent"), "\(text)")
        #expect(nodes.contains { text.hasPrefix($0.name + " ") }, "\(text)")
        #expect(!text.contains("10.0.0") && !text.contains("1234"), "\(text)")
        // Each node's retry line keeps the connection's words, address included.
        for index in 0..<3 {
            #expect(
                observer.all.contains(
                    "retry Filecoin.ChainGetTipSet after n\(index): network: request never reached the node (\(Self.refused(index)))"),
                "\(observer.all)")
        }
    }

    /// A write whose answer was lost is never retried: the client reads the node's name and
    /// that it may have run; the observer gets the detail.
    @Test func aWriteWhoseAnswerWasLostNamesTheNodeAndReportsTheDetail() async {
        let nodes = (0..<2).map { FakeNode(name: "n\($0)") }
        for (index, node) in nodes.enumerated() {
            node.answerAlways(.unreachable(.maybeSent, detail: "n\(index): connection reset by 10.0.0.\(index):1234"))
        }
        let observer = RecordingObserver()
        let pool = await makePool(nodes, observer: observer)
        let reply = await pool.call(call(.walletNew))
        guard case .failed(let text) = reply, let node = nodes.first(where: { !$0.calls.isEmpty }) else {
            Issue.record("expected a failure on one node, got \(reply)")
            return
        }
        #expect(text == "\(node.name) did not answer: the connection failed after the request was sent")
        #expect(
            observer.all.contains {
                $0
                    == "no answer Filecoin.WalletNew from \(node.name): \(node.name): connection reset by 10.0.0.\(node.name.dropFirst()):1234"
            }, "\(observer.all)")
    }
}
