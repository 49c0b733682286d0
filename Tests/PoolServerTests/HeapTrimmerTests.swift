// Memory freed after a burst of small allocations goes back to the system once resident memory
// is well above the trimmer's low mark; memory still in use is walked less and less often.

import Foundation
import Synchronization
import Testing

@testable import PoolServer

@Suite struct HeapTrimmerTests {
    /// Keeps small arrays alive from a thread of its own (its own malloc arena, as an event
    /// loop's would be), then frees all but one in fifty of them.
    final class Burst: Sendable {
        let arrays = Mutex<[[UInt8]]>([])

        func fill(count: Int) async {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread {
                    var arrays: [[UInt8]] = []
                    arrays.reserveCapacity(count)
                    for index in 0..<count { arrays.append([UInt8](repeating: UInt8(index & 0xFF), count: 300 + index % 200)) }
                    self.arrays.withLock { $0 = arrays }
                    done.resume()
                }.start()
            }
        }

        func freeMost() {
            self.arrays.withLock { arrays in arrays = arrays.enumerated().filter { $0.offset % 50 == 0 }.map(\.element) }
        }
    }

    /// The policy, on readings the test gives: memory in use (a trim gives nothing back) is
    /// walked less and less often; memory given back makes the next trim due at once.
    @Test func aTrimThatGivesLittleBackWaitsLongerBeforeTheNext() {
        let resident = Mutex(100 << 20)
        let trimmer = HeapTrimmer(growth: 32 << 20, maxBackoff: 4, resident: { resident.withLock { $0 } }, trim: {})
        #expect(trimmer.check() == nil)
        // 40 MiB more, in use: checks trim at 1, 3, 6, 11, 16 (waits of 1, 2, 4, then at most 4).
        resident.withLock { $0 += 40 << 20 }
        let trimmedAt = (1...16).filter { _ in trimmer.check() != nil }
        #expect(trimmedAt == [1, 3, 6, 11, 16])
        // Freed: the trim due gives it back, and the wait starts again at one check.
        let giveBack = HeapTrimmer(
            growth: 32 << 20, resident: { resident.withLock { $0 } },
            trim: { resident.withLock { $0 = 101 << 20 } })
        resident.withLock { $0 = 100 << 20 }
        #expect(giveBack.check() == nil)
        resident.withLock { $0 = 180 << 20 }
        let freed = giveBack.check()
        #expect(freed?.before == 180 << 20 && freed?.after == 101 << 20)
        // Near its low mark again: nothing to do.
        #expect(giveBack.check() == nil)
    }
}

extension HeapTrimmerTests {
    /// `run` checks on NIO's blocking-work threads, and reports what it gave back.
    @Test func runChecksOnItsIntervalAndReportsATrimThatGaveBack() async {
        // The first reading (at start) is the low mark; every later one finds a burst.
        let readings = Mutex(0)
        let resident = Mutex(200 << 20)
        let trimmer = HeapTrimmer(
            growth: 32 << 20,
            resident: {
                let first = readings.withLock { readings in
                    readings += 1
                    return readings == 1
                }
                return first ? 100 << 20 : resident.withLock { $0 }
            },
            trim: { resident.withLock { $0 = 100 << 20 } })
        let (reports, report) = AsyncStream<Int>.makeStream()
        let running = Task { await trimmer.run(every: .milliseconds(10)) { before, after in report.yield(before - after) } }
        // The check after the first interval finds 200 MiB and gives 100 MiB back.
        var given: Int?
        for await bytes in reports {
            given = bytes
            break
        }
        running.cancel()
        await running.value
        #expect(given == 100 << 20)
    }
}

/// The real thing: the test process's own heap and glibc's trim. Alone (scripts/test.sh runs
/// `…AloneTests` after the other suites): the trim holds every malloc arena of the process while
/// it walks them, a stall the other suites' timing tests would feel.
@Suite struct HeapTrimmerAloneTests {
    @Test(.enabled(if: HeapTrimmer.residentBytes() != nil && HeapTrimmer.systemTrim != nil, "needs /proc and glibc"))
    func memoryFreedAfterABurstIsGivenBack() async throws {
        // The low mark is set at 0, so the trim is due whatever the tests running beside this
        // one hold; then the process's own readings.
        let first = Atomic(true)
        let trimmer = HeapTrimmer(
            growth: 32 << 20, resident: { first.exchange(false, ordering: .relaxed) ? 0 : HeapTrimmer.residentBytes() })
        #expect(trimmer.check() == nil)
        let bursts = (0..<4).map { _ in HeapTrimmerTests.Burst() }
        for burst in bursts { await burst.fill(count: 60_000) }
        // About 100 MB in 240,000 blocks, 98 % of them freed: resident until trimmed.
        for burst in bursts { burst.freeMost() }
        let freed = try #require(trimmer.check())
        #expect(freed.before - freed.after > 40 << 20, "resident \(freed.before >> 20) → \(freed.after >> 20) MiB")
        withExtendedLifetime(bursts) {}
    }
}
