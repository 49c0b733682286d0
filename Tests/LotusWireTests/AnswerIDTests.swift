// An oversized answer's id, read from its first or last bytes in either key order go-jsonrpc
// has written, and never from an "id" inside the result.

import Testing

@testable import LotusWire

@Suite struct AnswerIDTests {
    @Test("the id at the start (go-jsonrpc v0.3.2 on, keys sorted) or at the end (before)")
    func eitherOrder() {
        #expect(AnswerID.leading(Array(#"{"id":12,"jsonrpc":"2.0","result":[{"SectorNumber":1,"#.utf8)) == 12)
        #expect(AnswerID.leading(Array(#"{ "id" : -3 , "jsonrpc":"2.0","result":["#.utf8)) == -3)
        #expect(AnswerID.trailing(Array(#"{"SectorNumber":9}],"id":7}"#.utf8) + [0x0A]) == 7)
        #expect(AnswerID.trailing(Array(#"9}] , "id" : 123456789012 } "#.utf8)) == 123_456_789_012)
    }

    @Test("an id inside the result, or an answer cut short, names no call")
    func decoysAreRefused() {
        #expect(AnswerID.leading(Array(#"{"jsonrpc":"2.0","result":{"id":3,"#.utf8)) == nil)
        #expect(AnswerID.trailing(Array(#"{"Miner":"f01000","id":7}]}"#.utf8)) == nil)
        #expect(AnswerID.trailing(Array(#""id":7}"#.utf8)) == nil)
        #expect(AnswerID.leading(Array(#"{"id":"#.utf8)) == nil)
        #expect(AnswerID.trailing(Array(#","id":}"#.utf8)) == nil)
        #expect(AnswerID.leading([]) == nil && AnswerID.trailing([]) == nil)
    }
}
