// The spec syntax for where a push's sender is.

import RouteModel
import Testing

@Suite struct SeedLocatorTests {
    @Test(arguments: ["p0", "p3", "p0.From", "p0.Message.From", "p0[0].From", "p0[0].Message.From", "p0.Wallet"])
    func roundTrips(_ text: String) throws {
        #expect(try SeedLocator(specText: text).description == text)
    }

    @Test func parsesIntoSteps() throws {
        #expect(
            try SeedLocator(specText: "p0[0].Message.From") == SeedLocator(param: 0, path: [.index(0), .field("Message"), .field("From")]))
    }

    @Test(arguments: [
        ("From", "must start with p"), ("p", "param position"), ("p99", "param position"), ("p0.", "field name"), ("p0[x]", "[<index>]"),
        ("p0/From", "unexpected '/'"),
    ])
    func rejectsMalformedPaths(_ text: String, _ reason: String) {
        let error = #expect(throws: SeedLocatorSyntaxError.self) { try SeedLocator(specText: text) }
        #expect(error?.description.contains(reason) == true, "\(error?.description ?? "")")
    }
}
