// The shortcut for go-jsonrpc's plain answers must never accept a frame the general parser
// reads differently: same id, same result bytes, or nil (and the general parser decides).

@testable import LotusWire
import Testing

@Suite struct PlainAnswerTests {
    static let result = #"{"Code":"bafk2bzace","Head":{"/":"bafy"},"Nonce":0,"Balance":"1000","Tags":["a",1.5e3,null,true]}"#
    /// As go-jsonrpc wrote it before v0.3.2.
    static let answer = #"{"jsonrpc":"2.0","result":\#(Self.result),"id":42}"#
    /// As go-jsonrpc writes it since (Lotus v1.36): keys sorted, a newline after.
    static let sortedAnswer = #"{"id":42,"jsonrpc":"2.0","result":\#(Self.result)}"# + "\n"

    /// What the general parser reads: the id and the result's range, when the frame is a plain answer.
    static func general(_ bytes: [UInt8]) -> (id: Int64, result: Range<Int>)? {
        guard let frame = try? RawRPCFrame(bytes), frame.methodName == nil, frame.error == nil, let id = frame.intID,
            let result = frame.result
        else { return nil }
        return (id, result)
    }

    @Test(arguments: [
        Self.answer, Self.answer + "\n", #"{"jsonrpc":"2.0","result":null,"id":1}"#, #"{"jsonrpc":"2.0","result":"x\",\"id\":7}","id":8}"#,
        #"{"jsonrpc":"2.0","result":[1,2] ,"id":123456789012345678}"#,
        Self.sortedAnswer, #"{"id":1,"jsonrpc":"2.0","result":null}"#, #"{"id":8,"jsonrpc":"2.0","result":"x\",\"id\":7}"}"#,
        #"{"id":123456789012345678,"jsonrpc":"2.0","result":[1,2] }"# + "\r\n",
    ])
    func readsPlainAnswersAsTheParserDoes(_ text: String) throws {
        let bytes = Array(text.utf8)
        let plain = try #require(PlainAnswer.read(bytes))
        let general = try #require(Self.general(bytes))
        #expect(plain.id == general.id)
        #expect(Array(bytes[plain.result]) == Array(bytes[general.result]))
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","id":6,"error":{"code":1,"message":"boom"}}"#,
        #"{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,{}]}"#,
        #"{"jsonrpc":"2.0","result":1,"other":2,"id":3}"#,
        #"{"jsonrpc":"2.0","result":1,"id":03}"#,
        #"{"jsonrpc":"2.0","result":1,"id":"3"}"#,
        #"{"jsonrpc":"2.0","result":{"a":1,"id":3}"#,
        #"{"jsonrpc":"2.0","result":,"id":3}"#,
        #"{"jsonrpc":"2.0","result":1,"id":1234567890123456789}"#,
        #"{"error":{"code":1,"message":"boom"},"id":6,"jsonrpc":"2.0"}"#,
        #"{"id":6,"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"boom"}}"#,
        #"{"id":3,"jsonrpc":"2.0","result":1,"other":2}"#,
        #"{"id":03,"jsonrpc":"2.0","result":1}"#,
        #"{"id":"3","jsonrpc":"2.0","result":1}"#,
        #"{"id":3,"jsonrpc":"2.0","result":}"#,
        #"{"id":3,"jsonrpc":"2.0","result":{"a":1}"#,
        #"{"id":3,"jsonrpc":"2.0","result":1"#,
        #"{"id":,"jsonrpc":"2.0","result":1}"#,
        #"{"id":1234567890123456789,"jsonrpc":"2.0","result":1}"#,
    ])
    func leavesEveryOtherFrameToTheParser(_ text: String) {
        #expect(PlainAnswer.read(Array(text.utf8)) == nil)
    }

    /// A result equal to one validated before is recognised without a walk; one byte off, or
    /// the same bytes in another place, and it is walked again.
    @Test func aKnownResultIsRecognisedByItsBytes() throws {
        let bytes = Array(Self.answer.utf8)
        let first = try #require(PlainAnswer.read(bytes))
        #expect(!first.isKnown)
        let known = Array(bytes[first.result])
        let again = try #require(PlainAnswer.read(Array((Self.answer.dropLast(3) + "43}").utf8), known: known))
        #expect(again.isKnown)
        #expect(again.id == 43)
        #expect(again.result == first.result)
        var other = known
        other[other.count - 3] = UInt8(ascii: "x")
        let different = try #require(PlainAnswer.read(bytes, known: other))
        #expect(!different.isKnown)
        // The known value followed by more bytes is not the known value.
        #expect(PlainAnswer.read(Array(#"{"jsonrpc":"2.0","result":[1]]],"id":3}"#.utf8), known: Array("[1]".utf8)) == nil)
        #expect(PlainAnswer.read(Array(#"{"jsonrpc":"2.0","result":[1] ,"id":3}"#.utf8), known: Array("[1]".utf8))?.isKnown == true)
    }

    /// Every one-byte corruption of a real answer: whatever the shortcut accepts, the parser
    /// reads the same way, whether or not the original result is known.
    @Test func aKnownResultIsRecognisedInTheSortedForm() throws {
        let bytes = Array(Self.sortedAnswer.utf8)
        let first = try #require(PlainAnswer.read(bytes))
        #expect(!first.isKnown)
        #expect(Array(bytes[first.result]) == Array(Self.result.utf8))
        let again = try #require(
            PlainAnswer.read(Array(Self.sortedAnswer.replacing(#""id":42"#, with: #""id":7"#).utf8), known: Array(Self.result.utf8)))
        #expect(again.isKnown)
        #expect(again.id == 7)
        #expect(PlainAnswer.read(Array(#"{"id":3,"jsonrpc":"2.0","result":[1]]]}"#.utf8), known: Array("[1]".utf8)) == nil)
        #expect(PlainAnswer.read(Array(#"{"id":3,"jsonrpc":"2.0","result":[1] }"#.utf8), known: Array("[1]".utf8))?.isKnown == true)
    }

    @Test(arguments: [false, true], [Self.answer, Self.sortedAnswer])
    func neverDisagreesWithTheParser(knowingTheResult: Bool, answer: String) throws {
        let original = Array(answer.utf8)
        let known = knowingTheResult ? try #require(PlainAnswer.read(original)).result.map { original[$0] } : nil
        let replacements: [UInt8] = Array("{}[]\",:0-9eE.+tfn \\u/xi".utf8)
        var disagreements: [String] = []
        var accepted = 0
        for position in original.indices {
            for replacement in replacements where replacement != original[position] {
                var mutated = original
                mutated[position] = replacement
                guard let plain = PlainAnswer.read(mutated, known: known) else { continue }
                accepted += 1
                let general = Self.general(mutated)
                if general?.id != plain.id || general.map({ Array(mutated[$0.result]) }) != Array(mutated[plain.result]) {
                    disagreements.append(String(decoding: mutated, as: UTF8.self))
                }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(accepted > 100)
    }
}
