// What a head channel's client was told, and the changes that carry it over to a new
// subscription's `current`: none at the same head, applies ahead, reverts then applies across
// a reorganisation, nothing (subscribe again) beyond reach.

import Synchronization
import Testing

@testable import PoolRuntime

@Suite struct ChainNotifyHistoryTests {
    /// A chain of tipsets by height, `fork` naming a branch (its CIDs differ from height `from`).
    func tipset(_ height: Int64, fork: String = "main", from: Int64 = .max) -> TipSetFacts {
        func key(_ height: Int64) -> [String] { [height >= from ? "\(fork)-\(height)" : "main-\(height)"] }
        return TipSetFacts(key: key(height), height: height, parents: key(height - 1), raw: Array("\(key(height))".utf8))
    }

    func history(_ heights: ClosedRange<Int64>) -> ChainNotifyHistory {
        var history = ChainNotifyHistory()
        history.record([HeadChange(.current, self.tipset(heights.lowerBound))])
        for height in heights.dropFirst() { history.record([HeadChange(.apply, self.tipset(height))]) }
        return history
    }

    /// Every tipset of both branches, as a daemon would answer ChainGetTipSet; counts lookups.
    final class Chain: Sendable {
        let lookups = Mutex(0)
        let tipsets: [[String]: TipSetFacts]

        init(_ tipsets: [TipSetFacts]) { self.tipsets = Dictionary(uniqueKeysWithValues: tipsets.map { ($0.key, $0) }) }

        func fetch(_ key: [String]) -> TipSetFacts? {
            self.lookups.withLock { $0 += 1 }
            return self.tipsets[key]
        }
    }

    @Test func recordFollowsCurrentAppliesAndRevertsAndKeepsItsDepth() {
        var history = self.history(1...5)
        #expect(history.tipsets.map(\.height) == [1, 2, 3, 4, 5])
        history.record([HeadChange(.revert, self.tipset(5)), HeadChange(.apply, self.tipset(5, fork: "b", from: 5))])
        #expect(history.tipsets.last?.key == ["b-5"])
        let long = self.history(1...100)
        #expect(long.tipsets.count == ChainNotifyHistory.depth && long.tipsets.last?.height == 100)
        history.record([HeadChange(.current, self.tipset(50))])
        #expect(history.tipsets.map(\.height) == [50])
    }

    @Test func theSameHeadNeedsNoChange() async {
        let chain = Chain([])
        let changes = await self.history(1...5).bridge(to: self.tipset(5)) { chain.fetch($0) }
        #expect(changes == [])
        #expect(chain.lookups.withLock { $0 } == 0)
    }

    @Test func aHeadAheadBecomesTheAppliesInOrder() async {
        let chain = Chain((1...9).map { self.tipset($0) })
        let changes = await self.history(1...5).bridge(to: self.tipset(9)) { chain.fetch($0) }
        #expect(changes?.map(\.kind) == [.apply, .apply, .apply, .apply])
        #expect(changes?.map(\.tipset.height) == [6, 7, 8, 9])
    }

    @Test func aReorganisationRevertsToTheCommonAncestorThenApplies() async {
        // The client saw main 1…6; the daemon's head is now fork b from height 5 up to 7.
        let fork = (5...7).map { self.tipset($0, fork: "b", from: 5) }
        let chain = Chain((1...6).map { self.tipset($0) } + fork)
        let changes = await self.history(1...6).bridge(to: fork.last!) { chain.fetch($0) }
        #expect(changes?.map(\.kind) == [.revert, .revert, .apply, .apply, .apply])
        #expect(changes?.map(\.tipset.key) == [["main-6"], ["main-5"], ["b-5"], ["b-6"], ["b-7"]])
    }

    @Test func aHeadBeyondReachOrUnknownMeansSubscribingAgain() async {
        let far = Chain((1...200).map { self.tipset($0) })
        #expect(await self.history(1...5).bridge(to: self.tipset(200)) { far.fetch($0) } == nil)
        #expect(far.lookups.withLock { $0 } <= ChainNotifyHistory.depth)
        let unknown = Chain([])
        #expect(await self.history(1...5).bridge(to: self.tipset(7)) { unknown.fetch($0) } == nil)
        #expect(await ChainNotifyHistory().bridge(to: self.tipset(7)) { unknown.fetch($0) } == nil)
    }
}
