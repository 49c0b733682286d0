// Fuzzes the raw JSON-RPC frame reader for CI's budget (FPOOL_FUZZ_SECONDS runs it longer)
// and replays the inputs earlier runs failed on.

import Testing

@Suite struct RPCFrameFuzzTests {
    /// Minimised inputs (hex) that once broke a property, with what was wrong.
    static let regressions: [String] = [
        "7b226964223a2d393232333337323033363835343737353830387d"  // {"id":-9223372036854775808}: intID was nil
    ]

    @Test("RawRPCFrame finds the parts the tree parser sees in every mutated frame")
    func fuzz() {
        let stats = FuzzRunner.run(RPCFrameFuzzTarget.target)
        #expect(stats.executions > 0)
    }

    @Test("Frames an earlier fuzz run failed on now pass", arguments: Self.regressions)
    func regression(_ hex: String) {
        FuzzRunner.replay(RPCFrameFuzzTarget.target, hex: hex)
    }
}
