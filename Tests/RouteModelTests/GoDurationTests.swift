// Timeouts in Go's duration syntax, as Lotus and the seed's APIRT_CONFIG write them.

import RouteModel
import Testing

@Suite struct GoDurationTests {
    @Test(arguments: [
        ("0", 0, "0s"), ("0s", 0, "0s"), ("500ms", 500, "500ms"), ("30s", 30_000, "30s"), ("1m30s", 90_000, "1m30s"),
        ("90s", 90_000, "1m30s"), ("2m", 120_000, "2m0s"), ("1h", 3_600_000, "1h0m0s"), ("1.5s", 1_500, "1.5s"),
        ("1h2m3s", 3_723_000, "1h2m3s"),
    ])
    func parsesAndPrintsLikeGo(_ text: String, _ milliseconds: UInt32, _ printed: String) throws {
        let duration = try GoDuration(parsing: text)
        #expect(duration.milliseconds == milliseconds)
        #expect(duration.description == printed)
        #expect(try GoDuration(parsing: printed) == duration)
    }

    @Test(arguments: ["", "s", "30", "-1s", "30x", "1.0001ms", "10d"])
    func rejectsWhatGoWouldNot(_ text: String) {
        let error = #expect(throws: GoDurationSyntaxError.self) { try GoDuration(parsing: text) }
        #expect(error?.description == "bad duration '\(text)'; expected a Go duration such as 0s, 500ms, 30s, 1m30s")
    }
}
