// Fuzzes the api-spec parser for CI's budget (FPOOL_FUZZ_SECONDS runs it longer) and replays
// the inputs earlier runs failed on.

import Testing

@Suite struct SpecFuzzTests {
    /// Minimised inputs (hex) that once broke a property.
    static let regressions: [String] = []

    @Test("The spec parser refuses or round-trips every mutated spec")
    func fuzz() {
        let stats = FuzzRunner.run(SpecFuzzTarget.target)
        #expect(stats.executions > 0)
        #expect(SpecFuzzTarget.target.seeds.count > 100, "the shipped specs were not found")
    }

    @Test("Specs an earlier fuzz run failed on now pass", arguments: Self.regressions)
    func regression(_ hex: String) {
        FuzzRunner.replay(SpecFuzzTarget.target, hex: hex)
    }
}
