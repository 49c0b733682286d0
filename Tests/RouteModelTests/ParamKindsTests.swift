// Packed parameter lists and the retry tags they earn.

import RouteModel
import Testing

@Suite struct ParamKindsTests {
    @Test func packingRoundTripsEveryKindAtEveryPosition() {
        let kinds = ParamKind.allCases + Array(ParamKind.allCases.prefix(ParamKinds.capacity - ParamKind.allCases.count))
        #expect(kinds.count == ParamKinds.capacity)
        let packed = ParamKinds(kinds)
        #expect(Array(packed) == kinds)
        #expect(ParamKinds(packed: packed.packed) == packed)
        #expect(ParamKinds([]).isEmpty)
    }

    @Test func retryTagsFollowThePrdRules() {
        #expect(ParamKinds([.address, .tipSetKey]).retryTags == [.actorNotFound, .blockNotFound])
        #expect(ParamKinds([.epoch]).retryTags == .blockNotFound)
        #expect(ParamKinds([.cid]).retryTags == .blockNotFound)
        #expect(ParamKinds([.address]).retryTags == .actorNotFound)
        #expect(ParamKinds([.message, .other]).retryTags == [])
        #expect(ParamKinds([]).retryTags.description == "-")
    }

    @Test func specSpellingsParseBack() throws {
        for kind in ParamKind.allCases {
            #expect(try ParamKind.parse(kind.specWord) == kind)
        }
        #expect(ParamKinds([.address, .tipSetKey]).description == "(Address,TipSetKey)")
        #expect(throws: VocabularyError.self) { try ParamKind.parse("Tipset") }
    }

    @Test func positionFindsTheFirstOfAKind() {
        let params = ParamKinds([.other, .address, .address])
        #expect(params.position(of: .address) == 1)
        #expect(params.position(of: .epoch) == nil)
    }
}
