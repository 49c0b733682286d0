// The few values the server decodes from raw params, per route: the push sender, the epoch,
// MpoolPush's signed message, and whether a read's TipSetKeys name fixed tipsets (the cache
// keeps only such answers). Everything else stays bytes.

import GeneratedRoutes
import PoolRuntime
@testable import PoolServer
import Testing

@Suite struct CallFactsReaderTests {
    func facts(_ method: V1Method, _ params: String) -> CallFacts {
        let bytes = Array(params.utf8)
        return CallFactsReader.facts(route: method.route, bytes: bytes, params: 0..<bytes.count)
    }

    @Test func pushesNameTheirSender() {
        #expect(self.facts(.mpoolPushMessage, #"[{"From":"f1abc","Nonce":0},null]"#).sender == "f1abc")
        #expect(self.facts(.mpoolBatchPushMessage, #"[[{"From":"f01002"},{"From":"f01002"}],null]"#).sender == "f01002")
        // Spaces and escapes as a client may send them.
        #expect(self.facts(.mpoolPushMessage, #"[ { "Nonce" : 1 , "From" : "f1\u0061bc" } , null ]"#).sender == "f1abc")
    }

    @Test func mpoolPushCarriesItsSignedMessage() throws {
        let signed = #"{"Message":{"From":"f01000","Nonce":7},"Signature":{"Type":1,"Data":"AA=="},"CID":{"/":"bafy-7"}}"#
        let facts = self.facts(.mpoolPush, "[\(signed)]")
        #expect(facts.sender == "f01000")
        let message = try #require(facts.signedMessage)
        #expect(message.nonce == 7)
        #expect(message.cid == "bafy-7")
        #expect(message.json == Array(signed.utf8))
        // Without its CID it cannot be re-pushed by CID lookup: no fact rather than a guess.
        #expect(self.facts(.mpoolPush, #"[{"Message":{"From":"f01000","Nonce":7}}]"#).signedMessage == nil)
    }

    @Test func epochParamsGiveTheHeight() {
        #expect(self.facts(.chainGetTipSetByHeight, "[120,[]]").height == 120)
        #expect(self.facts(.chainGetTipSetByHeight, #"["120",[]]"#).height == nil)
    }

    @Test func readsWithoutSuchParamsDecodeNothing() {
        #expect(self.facts(.stateGetActor, #"["f01000",[]]"#) == CallFacts())
        // Malformed params give no facts; the daemon answers the malformed call itself.
        #expect(self.facts(.mpoolPushMessage, #"{"From":"f1abc"}"#) == CallFacts())
    }

    /// A read at a named tipset may be kept; at the head (an empty or null key) it may not.
    @Test func onlyReadsAtNamedTipsetsAreFixed() {
        let key = #"[{"/":"bafy2bzacea"}]"#
        #expect(self.facts(.stateGetActor, #"["f01000",\#(key)]"#).fixedTipsets)
        #expect(self.facts(.stateGetActor, #"[ "f01000" , [ {"/":"bafy2bzacea"} ] ]"#).fixedTipsets)
        // Lotus decodes a null CID as no CID: a key of nulls is the empty key, the head.
        for head in ["[]", "[ ]", "[\n]", "null", "[null]", "[ null , null ]"] {
            #expect(!self.facts(.stateGetActor, #"["f01000",\#(head)]"#).fixedTipsets, "key \(head)")
        }
        // One CID among nulls is a key of that CID alone: a named (if odd) tipset.
        #expect(self.facts(.stateGetActor, #"["f01000",[null,{"/":"bafy2bzacea"}]]"#).fixedTipsets)
        // Only TipSetKeys count (StateCompute's `[]` is its messages); with two, both must name a tipset.
        #expect(self.facts(.stateCompute, #"[100,[],\#(key)]"#).fixedTipsets)
        #expect(self.facts(.chainGetPath, #"[\#(key),\#(key)]"#).fixedTipsets)
        #expect(!self.facts(.chainGetPath, #"[\#(key),[]]"#).fixedTipsets)
        // A param missing or extra is no call the cache can vouch for.
        #expect(!self.facts(.stateGetActor, #"["f01000"]"#).fixedTipsets)
        #expect(!self.facts(.stateGetActor, #"["f01000",\#(key),1]"#).fixedTipsets)
        // Malformed params: nothing at all, even though the key came before the fault.
        #expect(self.facts(.stateGetActor, #"["f01000",\#(key),]"#) == CallFacts())
    }
}
