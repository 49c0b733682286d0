// The byte-range scanner the server routes with: it must accept exactly what the full parser
// accepts, and the ranges it returns must hold the values the full parser sees.

import LotusWire
import Testing

@Suite struct RawJSONTests {
    static let samples = [
        #"{"jsonrpc":"2.0","id":5,"method":"Filecoin.StateGetActor","params":["f01000",[]],"meta":{"SpanContext":"AAA="}}"#,
        #"{"id":1,"method":"Filecoin.MpoolPush","params":[{"Message":{"Nonce":7,"From":"f1abc","Value":"1e3"},"CID":{"/":"bafy"}}]}"#,
        #"  {"a":[1,-2.5e+3,true,false,null,"x\"y\\u00e9\n"],"b":{}}  "#,
        #"[[],{},[{}],"",0,-0,1.0E-2]"#,
    ]

    @Test(arguments: Self.samples)
    func rangesHoldTheValuesTheParserSees(_ text: String) throws {
        let bytes = Array(text.utf8)
        let whole = try RawJSON.validate(bytes)
        let parsed = try JSON.parse(bytes)
        #expect(try JSON.parse(bytes[whole]) == parsed)
        if case .object(let fields) = parsed {
            let members = try RawJSON.members(of: bytes, in: whole)
            #expect(members.map(\.key) == fields.map(\.0))
            for (member, field) in zip(members, fields) { #expect(try JSON.parse(bytes[member.value]) == field.1) }
        }
        if case .array(let items) = parsed {
            let elements = try RawJSON.elements(of: bytes, in: whole)
            #expect(try elements.map { try JSON.parse(bytes[$0]) } == items)
        }
    }

    /// Every one-byte corruption of a real request: the scanner and the parser agree on
    /// whether it is JSON (printable ASCII replacements, so UTF-8 validity is not in play).
    @Test func acceptsExactlyWhatTheParserAccepts() {
        let original = Array(Self.samples[1].utf8)
        let replacements: [UInt8] = Array("{}[]\",:0-9eE.+tfn \\u/x".utf8)
        var disagreements: [String] = []
        for position in original.indices {
            for replacement in replacements where replacement != original[position] {
                var mutated = original
                mutated[position] = replacement
                let scanned = (try? RawJSON.validate(mutated)) != nil
                let parsed = (try? JSON.parse(mutated)) != nil
                if scanned != parsed { disagreements.append(String(decoding: mutated, as: UTF8.self)) }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(3))")
    }

    /// Long strings are skipped eight bytes at a time: a quote, backslash, control character or
    /// non-ASCII byte at every position of every word must be seen exactly as the parser sees it.
    @Test func everyByteOfALongStringIsChecked() {
        let specials: [[UInt8]] = [
            [0x22], [0x22, 0x22], [0x5C, 0x6E], [0x5C, 0x75, 0x30, 0x30, 0x65, 0x39], [0x5C, 0x78], [0x5C], [0x01], [0x1F], [0x0A],
            [0x7F], [0xC3, 0xA9], [0xFF], [0x20], [0x21], [0x23], [0x5B], [0x5D],
        ]
        var disagreements: [String] = []
        for length in 0..<40 {
            for position in 0...length {
                for special in specials {
                    var inner = Array(repeating: UInt8(ascii: "a"), count: length)
                    inner.insert(contentsOf: special, at: position)
                    let text = Array(#"{"k":""#.utf8) + inner + Array(#"","n":1}"#.utf8)
                    let scanned = (try? RawJSON.validate(text)) != nil
                    let parsed = (try? JSON.parse(text)) != nil
                    if scanned != parsed { disagreements.append("\(length) \(position) \(special)") }
                }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }

    @Test("decodeInt reads Int64's extremes and refuses one past them")
    func decodeIntReadsTheExtremes() {
        for (text, value) in [("-9223372036854775808", Int64.min), ("9223372036854775807", Int64.max), ("-0", 0), ("-12", -12)] {
            let bytes = Array(text.utf8)
            #expect(RawJSON.decodeInt(bytes, bytes.indices) == value, "\(text)")
        }
        for text in ["-9223372036854775809", "9223372036854775808", "-", "1.0", ""] {
            let bytes = Array(text.utf8)
            #expect(RawJSON.decodeInt(bytes, bytes.indices) == nil, "\(text)")
        }
    }

    @Test func deepNestingIsRefusedNotAStackOverflow() {
        let deep = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        #expect(throws: JSONParseError.self) { try RawJSON.validate(deep) }
    }

    @Test func aFrameGivesItsPartsAsRanges() throws {
        let frame = try RawRPCFrame(Array(Self.samples[0].utf8))
        #expect(frame.intID == 5)
        #expect(frame.methodName == "Filecoin.StateGetActor")
        #expect(String(decoding: frame.paramBytes, as: UTF8.self) == #"["f01000",[]]"#)
        let escaped = try RawRPCFrame(Array(#"{"id":2,"method":"Filecoin.Chain\u0048ead"}"#.utf8))
        #expect(escaped.methodHasEscapes)
        #expect(escaped.methodName == "Filecoin.ChainHead")
        #expect(String(decoding: escaped.paramBytes, as: UTF8.self) == "[]")
        #expect(throws: RPCError.self) { try RawRPCFrame(Array(#"[1]"#.utf8)) }
        // Keys are matched as bytes, or decoded when they hold escapes; a later duplicate wins,
        // but a method that is not a string fails the frame wherever it appears.
        let escapedKey = try RawRPCFrame(Array(#"{"\u0069d":7,"m\u0065thod":"Filecoin.ChainHead","id":8}"#.utf8))
        #expect(escapedKey.intID == 8)
        #expect(escapedKey.methodName == "Filecoin.ChainHead")
        #expect(try RawRPCFrame(Array(#"{"\u0069d":7}"#.utf8)).intID == 7)
        #expect(try RawRPCFrame(Array(#"{"ids":7,"i":8,"paramsx":[1]}"#.utf8)).id == nil)
        // A key padded with escaped NULs is another key (Go's decoder does not match it either).
        let padded = try RawRPCFrame(Array(#"{"id":1,"id\u0000":2,"error\u0000":{"code":1,"message":"x"},"\u0000id":3}"#.utf8))
        #expect(padded.intID == 1)
        #expect(padded.error == nil)
        #expect(throws: RPCError.parse("json: method is not a string")) { try RawRPCFrame(Array(#"{"id":1,"method":1}"#.utf8)) }
        #expect(throws: RPCError.parse("json: method is not a string")) {
            try RawRPCFrame(Array(#"{"method":1,"method":"Filecoin.ChainHead","id":1}"#.utf8))
        }
        #expect(throws: RPCError.self) { try RawRPCFrame(Array(#"{"method":5}"#.utf8)) }
    }

    @Test func builtFramesAreTheFramesTheTreeWriterBuilds() throws {
        let result = RawRPCFrames.result(id: Array("7".utf8), result: Array(#"{"Height":3}"#.utf8))
        #expect(try JSON.parse(result) == RPCFrames.result(id: 7, ["Height": 3]))
        let error = RawRPCFrames.error(id: Array("8".utf8), RPCError(code: 1, message: "a \"quoted\" reason"))
        #expect(try JSON.parse(error) == RPCFrames.error(id: 8, RPCError(code: 1, message: "a \"quoted\" reason")))
        let request = RawRPCFrames.request(id: 9, method: "Filecoin.ChainHead", params: Array("[]".utf8))
        #expect(try JSON.parse(request) == RPCFrames.request(id: 9, method: "Filecoin.ChainHead", params: []))
    }
}
