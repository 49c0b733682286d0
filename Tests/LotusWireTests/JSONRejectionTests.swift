// What both JSON readers must refuse (the scanner the server routes with and the tree parser),
// where the scanner says it broke, and their exact nesting limit.

import LotusWire
import Testing

@Suite struct JSONRejectionTests {
    /// One malformed document and the byte offset `RawJSON.validate` reports for it.
    struct Case: CustomTestStringConvertible, Sendable {
        let bytes: [UInt8]
        let offset: Int

        init(_ text: String, at offset: Int) {
            self.bytes = Array(text.utf8)
            self.offset = offset
        }

        init(bytes: [UInt8], at offset: Int) {
            self.bytes = bytes
            self.offset = offset
        }

        var testDescription: String {
            self.bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
                ? String(decoding: self.bytes, as: UTF8.self) : self.bytes.map { String($0, radix: 16) }.joined(separator: " ")
        }
    }

    static let trailingAndLeadingCommas = [
        Case("[1,]", at: 3), Case("[1,2,]", at: 5), Case("[1 , ]", at: 5), Case("[[1,]]", at: 4), Case(#"{"a":1,}"#, at: 7),
        Case(#"{"a":{"b":1,}}"#, at: 12), Case(#"{"a":1 , }"#, at: 9), Case("[,1]", at: 1), Case("[,]", at: 1),
        Case(#"{,"a":1}"#, at: 1), Case("[1,,2]", at: 3), Case(#"{"a":1,,"b":2}"#, at: 7), Case("1,", at: 1),
    ]

    static let missingParts = [
        Case("", at: 0), Case(" \n\t", at: 3), Case("[", at: 1), Case("{", at: 1), Case("[1", at: 2), Case(#"{"a":1"#, at: 6),
        Case("]", at: 0), Case("}", at: 0), Case("[}", at: 1), Case(#"{"a":1]"#, at: 6), Case(#"{]"#, at: 1), Case("[1 2]", at: 3),
        Case(#"{"a":1 "b":2}"#, at: 7), Case(#"{"a":}"#, at: 5), Case(#"{"a"}"#, at: 4), Case(#"{"a" 1}"#, at: 5),
        Case(#"{"a":1,"b"}"#, at: 10), Case(#"{:1}"#, at: 1), Case(#"{1:1}"#, at: 1), Case(#"{a:1}"#, at: 1),
        Case(#"{'a':1}"#, at: 1), Case(#"{null:1}"#, at: 1),
    ]

    static let badLiterals = [
        Case("tru", at: 0), Case("nul", at: 0), Case("fals", at: 0), Case("t", at: 0), Case("True", at: 0), Case("NULL", at: 0),
        Case("nulx", at: 0), Case("undefined", at: 0), Case("NaN", at: 0), Case("Infinity", at: 0), Case("-Infinity", at: 1),
        Case("[tru]", at: 1), Case("'a'", at: 0),
    ]

    static let badNumbers = [
        Case("01", at: 1), Case("-01", at: 2), Case("00", at: 1), Case("[01]", at: 2), Case("1.", at: 2), Case(#"{"a":1.}"#, at: 7),
        Case("-", at: 1), Case("-a", at: 1), Case("--1", at: 1), Case("+1", at: 0), Case(".5", at: 0), Case("-.5", at: 1),
        Case("1.e3", at: 2), Case("1e", at: 2), Case("1e+", at: 3), Case("1E-", at: 3), Case("1e+-1", at: 3), Case("1.5.3", at: 3),
        Case("1e5.3", at: 3), Case("0x10", at: 1), Case("1_000", at: 1), Case("[1e]", at: 3),
    ]

    static let badStrings = [
        Case(#""abc"#, at: 4), Case(#"""#, at: 1), Case(#""\""#, at: 3), Case(#"["abc]"#, at: 6), Case(#""\x""#, at: 3),
        Case(#""\a""#, at: 3), Case(#""\'""#, at: 3), Case(#""\U0041""#, at: 3), Case(#""\u12""#, at: 5), Case(#""\u12G4""#, at: 5),
        Case(#""\u""#, at: 3), Case(#""\"#, at: 2), Case("\"a\u{0}b\"", at: 3), Case("\"\u{1F}\"", at: 2),
        Case("\"a\nb\"", at: 3), Case("\"\t\"", at: 2), Case("\"\r\"", at: 2), Case(#"{"a\q":1}"#, at: 5),
    ]

    static let badBytes = [
        Case(bytes: [0xFF], at: 0), Case(bytes: [0x5B, 0xFF, 0x5D], at: 1), Case(bytes: [0xEF, 0xBB, 0xBF, 0x5B, 0x5D], at: 0),
        Case(bytes: [0xC2, 0xA0, 0x5B, 0x5D], at: 0), Case("\u{0C}[]", at: 0), Case("[]\u{0B}", at: 2), Case(bytes: [0x00], at: 0),
    ]

    static let trailingGarbage = [
        Case("[1] x", at: 4), Case("{}{}", at: 2), Case("[]]", at: 2), Case("1 2", at: 2), Case(#""a""b""#, at: 3),
        Case("null,", at: 4), Case(bytes: [0x5B, 0x5D, 0x00], at: 2), Case("truefalse", at: 4), Case("[] // comment", at: 3),
    ]

    @Test(
        "RawJSON.validate refuses malformed JSON where it broke, and the tree parser refuses it too",
        arguments: [
            Self.trailingAndLeadingCommas, Self.missingParts, Self.badLiterals, Self.badNumbers, Self.badStrings, Self.badBytes,
            Self.trailingGarbage,
        ].joined())
    func bothReadersRefuse(_ malformed: Case) {
        let scanned = #expect(throws: JSONParseError.self) { try RawJSON.validate(malformed.bytes) }
        #expect(scanned?.offset == malformed.offset, "\(scanned?.description ?? "")")
        #expect(throws: JSONParseError.self) { try JSON.parse(malformed.bytes) }
    }

    /// Edge cases that are JSON: both readers take them (invalid UTF-8 inside a string too, as
    /// Go's decoder does: it is replaced when decoded, never a reason to refuse a frame).
    @Test(
        "Both readers accept the edges of the grammar",
        arguments: [
            "0", "-0", "0.0", "-0.0e-0", "1e5", "1E+5", "-1.5e-3", "1e400", "123456789012345678901234567890", #""""#,
            #""\u00e9\ud83d\ude00\uD800""#, #""\/\b\f\n\r\t\"\\""#, " \t\r\n[ ]\r\n", #"{"a":[],"a":{}}"#, "\"\u{7F}\"", "[[],[[]]]",
        ].map { Array($0.utf8) } + [[0x22, 0xFF, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]])
    func bothReadersAccept(_ bytes: [UInt8]) throws {
        let range = try RawJSON.validate(bytes)
        let tree = try JSON.parse(bytes)
        // Compared as written: JSON's `==` finds keys by lookup, so a duplicate key defeats it.
        #expect(try JSON.parse(bytes[range]).encoded() == tree.encoded())
    }

    /// `depth` containers, each holding the next, the innermost holding `innermost`.
    static func nested(_ depth: Int, objects: Bool, innermost: String = "") -> [UInt8] {
        let (open, close) = objects ? (#"{"k":"#, "}") : ("[", "]")
        let last = objects && innermost.isEmpty ? "{}" : innermost.isEmpty ? "[]" : open + innermost + close
        return Array((String(repeating: open, count: depth - 1) + last + String(repeating: close, count: depth - 1)).utf8)
    }

    /// The limit is 512 levels of values, the document itself being the first: 512 nested
    /// containers pass, 513 do not; a scalar inside 511 containers passes, inside 512 it does not.
    @Test("Both readers take exactly 512 levels of nesting", arguments: [false, true])
    func nestingLimitIsExact(objects: Bool) throws {
        for accepted in [Self.nested(512, objects: objects), Self.nested(511, objects: objects, innermost: "1")] {
            _ = try RawJSON.validate(accepted)
            _ = try RawJSON.value(in: accepted, from: 0)
            _ = try JSON.parse(accepted)
        }
        for refused in [Self.nested(513, objects: objects), Self.nested(512, objects: objects, innermost: "1")] {
            for refusal in [
                Self.refusal { () throws(JSONParseError) in try RawJSON.validate(refused) },
                Self.refusal { () throws(JSONParseError) in try RawJSON.value(in: refused, from: 0) },
                Self.refusal { () throws(JSONParseError) in try JSON.parse(refused) },
            ] {
                #expect(refusal?.reason.contains("nesting") == true, "\(refusal?.description ?? "accepted")")
            }
        }
    }

    /// The error `read` throws; unlike `#expect(throws:)`, a failure does not print the
    /// 500-level document it returned.
    static func refusal<Value>(_ read: () throws(JSONParseError) -> Value) -> JSONParseError? {
        do {
            _ = try read()
            return nil
        } catch {
            return error
        }
    }

    /// A frame's members are read from depth 0 as well: its params may nest 511 levels more.
    @Test("A frame's members obey the same limit as the whole frame")
    func frameMembersObeyTheLimit() throws {
        let prefix = Array(#"{"id":1,"method":"Filecoin.ChainHead","params":"#.utf8)
        let accepted = prefix + Self.nested(511, objects: false) + Array("}".utf8)
        let frame = try RawRPCFrame(accepted)
        #expect(frame.paramBytes.count == 511 * 2)
        #expect(try RawJSON.members(of: accepted, in: 0..<accepted.count).count == 3)
        let refused = prefix + Self.nested(512, objects: false) + Array("}".utf8)
        #expect((try? RawRPCFrame(refused)) == nil)
        #expect(
            Self.refusal { () throws(JSONParseError) in try RawJSON.members(of: refused, in: 0..<refused.count) }?.reason.contains(
                "nesting") == true)
    }
}
