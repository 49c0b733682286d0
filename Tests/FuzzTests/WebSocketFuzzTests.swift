// Fuzzes the WebSocket frame reader for CI's budget (FPOOL_FUZZ_SECONDS runs it longer) and
// replays the inputs earlier runs failed on.

import Testing

@Suite struct WebSocketFuzzTests {
    /// Minimised inputs (hex: the configuration byte, then the stream) that once broke a property.
    static let regressions: [String] = []

    @Test("The WebSocket reader reads every mutated stream the same however it is split")
    func fuzz() {
        let stats = FuzzRunner.run(WebSocketFuzzTarget.target)
        #expect(stats.executions > 0)
    }

    @Test("Streams an earlier fuzz run failed on now pass", arguments: Self.regressions)
    func regression(_ hex: String) {
        FuzzRunner.replay(WebSocketFuzzTarget.target, hex: hex)
    }
}
