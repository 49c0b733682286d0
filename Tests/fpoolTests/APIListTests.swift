// `fpool api list` and `fpool api types`: the seed's format, JSON for scripts, clear errors.

import Foundation
import GeneratedRoutes
import RouteModel
import Testing

@testable import fpool

@Suite struct APIListTests {
    @Test func tableHasTheSeedColumnsAndOneRowPerMethod() {
        let rows = APIListing.rows(RouteTable.entries(.v1), poolDefault: .oneBySeedRound, callIds: ["ChainHead": 93])
        let lines = APIListing.table(rows).split(separator: "\n")
        #expect(lines.count == RouteTable.entries(.v1).count + 1)
        #expect(
            lines[0].split(separator: " ", omittingEmptySubsequences: true) == [
                "Cate", "Api", "CallId", "Filter", "Policy", "NoHang", "Timeout", "Cache",
            ])
        let head = lines.first { $0.split(separator: " ").dropFirst().first == "ChainHead" }
        #expect(
            head?.split(separator: " ", omittingEmptySubsequences: true) == [
                "chain", "ChainHead", "93", "all", "OneByChainHeadDesc", "false", "0s", "none",
            ])
        // A state read at a named tipset is cached; the list says how.
        let actor = lines.first { $0.split(separator: " ").dropFirst().first == "StateGetActor" }
        #expect(actor?.split(separator: " ", omittingEmptySubsequences: true).last == "tipset")
        // Columns line up: "Api" starts where every method name starts.
        let apiColumn = lines[0].range(of: "Api")!.lowerBound.utf16Offset(in: lines[0])
        #expect(head.map { $0.range(of: "ChainHead")!.lowerBound.utf16Offset(in: $0) } == apiColumn)
    }

    @Test func rowsFollowTheSeedsCategoryOrder() {
        let rows = APIListing.rows(RouteTable.entries(.v1), poolDefault: .oneBySeedRound, callIds: [:])
        #expect(rows.first?.category == "chain")
        let firstOf = { (category: String) in rows.firstIndex { $0.category == category }! }
        #expect(firstOf("chain") < firstOf("beacon"))
        #expect(firstOf("beacon") < firstOf("gas"))
        #expect(firstOf("gas") < firstOf("sync"))
        #expect(firstOf("sync") < firstOf("mpool"))
    }

    @Test func poolDefaultIsShownResolved() {
        let rows = APIListing.rows(RouteTable.entries(.v1), poolDefault: .oneByIdRound, callIds: [:])
        let actor = rows.first { $0.api == "StateGetActor" }
        #expect(actor?.policy == "OneByIdRound")
        #expect(actor?.policyIsDefault == true)
        #expect(actor?.retry == ["blockNotFound", "actorNotFound"])
        let push = rows.first { $0.api == "MpoolPushMessage" }
        #expect(push?.seed == "p0.From")
        #expect(push?.effect == "push")
    }

    @Test func typesAreTheCategoriesInSeedOrder() {
        let types = APIListing.categories(of: RouteTable.entries(.v1)).map(\.rawValue)
        #expect(Array(types.prefix(5)) == ["chain", "beacon", "gas", "sync", "mpool"])
        #expect(Set(types) == Set(RouteTable.entries(.v1).map(\.category.rawValue)))
    }
}
