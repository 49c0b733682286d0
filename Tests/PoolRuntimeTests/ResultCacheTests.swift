// The result cache's byte bound and eviction: segmented LRU keeps a working set asked for
// again through a scan of answers asked for once.

import GeneratedRoutes
import Testing

@testable import PoolRuntime

@Suite struct ResultCacheTests {
    static func key(_ number: Int) -> CallKey {
        CallKey(route: .v1(.stateGetActor), params: Array("[\"f0\(number)\",[{\"/\":\"bafy\"}]]".utf8))
    }

    static let answer = [UInt8](repeating: UInt8(ascii: "x"), count: 1_000)

    @Test func theBytesHeldNeverPassTheBound() {
        var cache = ResultCache(capacity: 50_000)
        for number in 0..<500 {
            cache.insert(Self.answer, node: 0, for: Self.key(number))
            #expect(cache.bytes <= 50_000)
        }
        #expect(cache.count > 10 && cache.count < 50)
        #expect(cache.evictions == UInt64(500 - cache.count))
        // The newest answers are the ones kept.
        #expect(cache.contains(Self.key(499)) && !cache.contains(Self.key(0)))
    }

    @Test func aScanOfAnswersAskedForOnceLeavesTheWorkingSetInPlace() {
        var cache = ResultCache(capacity: 100_000)
        let working = (0..<40).map(Self.key)
        for key in working { cache.insert(Self.answer, node: 1, for: key) }
        // Asked for again: the working set.
        for key in working { #expect(cache.value(for: key)?.node == 1) }
        // A scan three times the cache's size, each answer asked for once.
        for number in 1_000..<1_300 { cache.insert(Self.answer, node: 2, for: Self.key(number)) }
        #expect(working.allSatisfy(cache.contains))
        #expect(cache.bytes <= 100_000)
    }

    @Test func anAnswerTooLargeIsNotKeptAndZeroBytesKeepsNothing() {
        var cache = ResultCache(capacity: 80_000)
        cache.insert([UInt8](repeating: 0, count: 20_000), node: 0, for: Self.key(1))
        #expect(!cache.contains(Self.key(1)))
        cache.insert(Self.answer, node: 0, for: Self.key(2))
        #expect(cache.contains(Self.key(2)))
        cache.resize(0)
        #expect(cache.count == 0 && cache.bytes == 0)
        cache.insert(Self.answer, node: 0, for: Self.key(3))
        #expect(cache.count == 0)
    }

    static let small = Array("1".utf8)

    @Test func turningTheCacheOffGivesItsMemoryBack() {
        var cache = ResultCache(capacity: 8 << 20)
        for number in 0..<5_000 { cache.insert(Self.small, node: 0, for: Self.key(number)) }
        #expect(cache.count == 5_000 && cache.reservedSlots >= 5_000 && cache.reservedEntries >= 5_000)
        cache.resize(0)
        #expect(cache.count == 0 && cache.bytes == 0)
        #expect(cache.reservedSlots == 0 && cache.reservedEntries == 0)
    }

    @Test func aLowerBoundShrinksTheContainersAndKeepsTheWorkingSet() {
        var cache = ResultCache(capacity: 8 << 20)
        for number in 0..<5_000 { cache.insert(Self.small, node: number % 3, for: Self.key(number)) }
        let working = (0..<10).map(Self.key)
        for key in working { #expect(cache.value(for: key) != nil) }
        let bound = 60 * ResultCache.cost(Self.key(0), Self.small)
        cache.resize(bound)
        #expect(cache.bytes <= bound && cache.count <= 60)
        #expect(cache.reservedSlots < 2 * 60 && cache.reservedEntries < 4 * 60)
        // The answers asked for again are the ones kept, with their nodes, and the cache goes on
        // working after the rebuild: newer answers push out the older ones asked for once.
        for (number, key) in working.enumerated() { #expect(cache.value(for: key)?.node == number % 3) }
        for number in 10_000..<10_200 {
            cache.insert(Self.small, node: 0, for: Self.key(number))
            #expect(cache.bytes <= bound)
        }
        #expect(working.allSatisfy(cache.contains))
        #expect(cache.contains(Self.key(10_199)) && !cache.contains(Self.key(4_999)))
    }

    /// Emptied for a move to another chain, the cache keeps serving that chain's answers after
    /// its containers are rebuilt smaller (which once started it over at chain 0: off for good).
    @Test func theChainOfTheAnswersHeldSurvivesARebuild() {
        var cache = ResultCache(capacity: 8 << 20)
        cache.removeAll(movingTo: 1)
        for number in 0..<5_000 { cache.insert(Self.small, node: 0, for: Self.key(number)) }
        cache.resize(60 * ResultCache.cost(Self.key(0), Self.small))
        #expect(cache.reservedSlots < 2 * 60)
        #expect(cache.chain == 1)
        // A move back and forth never goes back to an earlier chain's mark.
        cache.removeAll(movingTo: 0)
        #expect(cache.chain == 1)
    }

    @Test func smallAnswersPushedOutByLargeOnesLeaveNoReservedSlotsBehind() {
        var cache = ResultCache(capacity: 4 << 20)
        for number in 0..<20_000 { cache.insert(Self.small, node: 0, for: Self.key(number)) }
        let peak = cache.reservedSlots
        #expect(peak >= 10_000)
        let large = [UInt8](repeating: UInt8(ascii: "x"), count: 400 << 10)
        for number in 0..<20 { cache.insert(large, node: 0, for: Self.key(100_000 + number)) }
        #expect(cache.count < 20)
        #expect(cache.reservedSlots < 2 * ResultCache.compactionSlack + 20, "\(cache.reservedSlots) slots reserved of \(peak)")
        #expect(cache.bytes <= 4 << 20)
    }
}
