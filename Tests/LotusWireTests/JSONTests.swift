// The wire JSON: exact integers, key order, escapes, and errors with their byte offset.

import LotusWire
import Testing

@Suite struct JSONTests {
    @Test func roundTripsLotusFrames() throws {
        let text =
            #"{"jsonrpc":"2.0","id":5,"method":"Filecoin.StateGetActor","params":["f01000",[{"/":"bafy2bzace"}]],"meta":{"SpanContext":"AAA"}}"#
        let json = try JSON.parse(text)
        #expect(json.description == text)
        #expect(json["id"]?.int == 5)
        #expect(json["params"]?[1]?[0]?["/"]?.string == "bafy2bzace")
    }

    @Test func keepsLargeIntegersExact() throws {
        let json = try JSON.parse("[9007199254740993, -1, 1.5, 1e3]")
        #expect(json[0]?.int == 9_007_199_254_740_993)
        #expect(json[1]?.int == -1)
        #expect(json[2] == .double(1.5))
        #expect(json[3]?.int == 1000)
    }

    @Test func escapesAndUnicode() throws {
        let json = try JSON.parse(#"["a\"b\\c\n\u00e9\ud83d\ude00"]"#)
        #expect(json[0]?.string == "a\"b\\c\né😀")
        #expect(JSON.string("a\"b\n\u{01}").description == #""a\"b\n\u0001""#)
    }

    @Test func brokenSurrogatesBecomeReplacementCharacters() throws {
        // A lone high surrogate followed by an ordinary escape must not trap.
        #expect(try JSON.parse(#"["\ud800\u0041"]"#)[0]?.string == "\u{FFFD}A")
        #expect(try JSON.parse(#"["\ud800"]"#)[0]?.string == "\u{FFFD}")
        #expect(try JSON.parse(#"["\udc00x"]"#)[0]?.string == "\u{FFFD}x")
    }

    @Test(arguments: [
        ("{", "expected a string key"), ("[", "unexpected end of input"), ("[1,]", "unexpected character"), ("{\"a\" 1}", "expected ':'"),
        ("[1] x", "unexpected trailing data"), ("\"abc", "unterminated string"), ("nul", "invalid literal"),
        // Numbers by RFC 8259's grammar, as Go reads them (Swift's Int64/Double take some of these).
        ("01", "unexpected trailing data"), ("-01", "unexpected trailing data"), ("1.", "no digits after '.'"), ("-.5", "invalid number"),
        ("1.e3", "no digits after '.'"), ("1e", "no digits in exponent"), ("-", "invalid number"),
    ])
    func reportsWhereItBroke(_ text: String, _ reason: String) {
        let error = #expect(throws: JSONParseError.self) { try JSON.parse(text) }
        #expect(error?.reason.contains(reason) == true, "\(error?.description ?? "")")
    }

    @Test func rejectsAbsurdNesting() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }
}
