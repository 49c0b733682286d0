// The simulated daemons answer in the byte form of Lotus v1.36 (go-jsonrpc ≥ v0.3.2: keys
// sorted, a newline after), so what the pool reads fast in tests and benchmarks is what it
// reads fast against a real daemon.

import FPoolTestSupport
import LotusSim
@testable import LotusWire
import Testing

@Suite struct SimWireFormTests {
    @Test func answersComeWithSortedKeysAndANewlineAndTakeThePoolsShortcut() async throws {
        try await withCluster(nodes: 1) { cluster in
            let peer = try await RawWebSocketPeer.connect(port: cluster.daemons[0].port, path: "/rpc/v1")
            try await peer.send(#"{"jsonrpc":"2.0","id":5,"method":"Filecoin.ChainHead","params":[]}"#)
            await peer.waitFor(#""result":"#)
            try await peer.send(#"{"jsonrpc":"2.0","id":6,"method":"Filecoin.NoSuchMethod","params":[]}"#)
            await peer.waitFor(#""error":"#)
            try await peer.sendClose()
            let messages = try await peer.eventsUntilClosed().compactMap { event -> String? in
                guard case .message(let bytes) = event else { return nil }
                return String(decoding: bytes, as: UTF8.self)
            }
            try #require(messages.count == 2)
            #expect(messages[0].hasPrefix(#"{"id":5,"jsonrpc":"2.0","result":{"#))
            #expect(messages[0].hasSuffix("}\n"))
            let answer = try #require(PlainAnswer.read(Array(messages[0].utf8)))
            #expect(answer.id == 5)
            #expect(messages[1].hasPrefix(#"{"error":{"code":"#))
            #expect(messages[1].hasSuffix(#""id":6,"jsonrpc":"2.0"}"# + "\n"))
        }
    }

    @Test func httpAnswersHaveTheSameForm() async throws {
        try await withCluster(nodes: 1) { cluster in
            let response = try await cluster.http(0, "Filecoin.ChainHead")
            let body = String(decoding: response.body, as: UTF8.self)
            #expect(body.hasPrefix(#"{"id":"#))
            #expect(body.hasSuffix("}\n"))
        }
    }
}
