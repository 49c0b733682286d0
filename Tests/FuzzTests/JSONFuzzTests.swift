// Fuzzes the two JSON readers for CI's budget (FPOOL_FUZZ_SECONDS runs it longer) and replays
// the inputs earlier runs failed on.

import Testing

@Suite struct JSONFuzzTests {
    /// Minimised inputs (hex) that once broke a property, with what was wrong.
    static let regressions: [String] = [
        "3031",  // `01`: the tree parser read it as 1, RawJSON refused it
        "312e",  // `1.`: the same
        "2d2e35",  // `-.5`: the same
        "2d39323233333732303336383534373735383038",  // -9223372036854775808: RawJSON.decodeInt gave nil
    ]

    @Test("RawJSON and the tree parser agree on every mutated document")
    func fuzz() {
        let stats = FuzzRunner.run(JSONFuzzTarget.target)
        #expect(stats.executions > 0)
    }

    @Test("Documents an earlier fuzz run failed on now pass", arguments: Self.regressions)
    func regression(_ hex: String) {
        FuzzRunner.replay(JSONFuzzTarget.target, hex: hex)
    }
}
