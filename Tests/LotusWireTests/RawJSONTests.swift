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
