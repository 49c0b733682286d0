// Spec words: canonical spellings, the seed's aliases, and errors that list the valid words.

import RouteModel
import Testing

@Suite struct VocabularyTests {
    @Test func policiesParseByCanonicalName() throws {
        for policy in Policy.allCases {
            #expect(try Policy.parse(policy.rawValue) == policy)
            #expect(try Policy.parseAllowingAliases(policy.rawValue) == policy)
        }
        #expect(Policy.allCases.count == 8)
    }

    @Test func seedAliasesAreAcceptedOnInputOnly() throws {
        #expect(try Policy.parseAllowingAliases("FirstOk") == .allWithFirstSucceed)
        #expect(try Policy.parseAllowingAliases("RoundRobin") == .oneByIdRound)
        #expect(throws: VocabularyError.self) { try Policy.parse("FirstOk") }
        #expect(try PolicyChoice(specWord: "FirstOk").description == "AllWithFirstSucceed")
    }

    @Test func unknownPolicyListsTheValidNames() {
        let error = #expect(throws: VocabularyError.self) { try Policy.parseAllowingAliases("onebyseedround") }
        #expect(
            error?.description
                == "unknown policy 'onebyseedround'; expected one of: OneByIndexAsc, OneByIndexDesc, OneByIdRound, OneByChainHeadDesc, OneByMessagePeersDesc, OneByBlockPeersDesc, OneBySeedRound, AllWithFirstSucceed"
        )
    }

    @Test func policyChoiceResolvesThePoolDefault() throws {
        let choice = try PolicyChoice(specWord: "default")
        #expect(choice == .poolDefault)
        #expect(choice.resolved(poolDefault: .oneByIdRound) == .oneByIdRound)
        #expect(try PolicyChoice(specWord: "OneByIndexDesc").resolved(poolDefault: .oneByIdRound) == .oneByIndexDesc)
    }

    @Test func permissionsAreExactWords() throws {
        #expect(Perm.allCases.map(\.rawValue) == ["read", "write", "sign", "admin"])
        let error = #expect(throws: VocabularyError.self) { try Perm.parse("Read") }
        #expect(error?.description == "unknown perm 'Read'; expected one of: read, write, sign, admin")
    }

    @Test func unlistedMethodsAreAdminWritesOnThePoolDefault() {
        let route = RouteEntry.unlisted(name: "FutureMethod")
        #expect(route.perm == .admin)
        #expect(route.effect == .write)
        #expect(route.policy == .poolDefault)
        #expect(route.wireName == "Filecoin.FutureMethod")
    }
}
