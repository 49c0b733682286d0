// One line of the chaos report's table: an invariant, what the run measured, the bound, and
// whether it held.

struct ChaosCheck: Sendable {
    let invariant: String
    let measured: String
    let bound: String
    /// nil when the run gave nothing to measure (no fault of that kind met an open channel).
    let passed: Bool?

    var verdict: String {
        switch self.passed {
        case true?: "pass"
        case false?: "FAIL"
        case nil: "n/a"
        }
    }
}
