// What each method's answers have taken lately, and the hedge delay that follows from it; and a
// budget that keeps hedges a small share of reads, so a slow pool is never doubled in load.

import GeneratedRoutes
import Synchronization

/// Recent answer times of one method (any node), and the delay derived from them.
struct LatencyWindow: Sendable {
    static let size = 64
    private var samples: [UInt32] = []
    private var next = 0
    private var sinceUpdate = 0
    /// 2 × the 95th percentile, recomputed every 16 samples.
    private(set) var delayMicroseconds: UInt32?

    /// Adds one answer time; returns the delay when this sample recomputed it.
    mutating func record(microseconds: UInt32) -> UInt32? {
        if self.samples.count < Self.size {
            self.samples.append(microseconds)
        } else {
            self.samples[self.next] = microseconds
            self.next = (self.next + 1) % Self.size
        }
        self.sinceUpdate += 1
        // Judged from 16 answers on; refreshed every 16 after.
        guard self.samples.count >= 16, self.sinceUpdate >= 16 || self.delayMicroseconds == nil else { return nil }
        self.sinceUpdate = 0
        let p95 = Self.largest(rank: self.samples.count - min(self.samples.count - 1, self.samples.count * 95 / 100), of: self.samples)
        self.delayMicroseconds = p95 > UInt32.max / 2 ? UInt32.max : p95 * 2
        return self.delayMicroseconds
    }

    /// The `rank`-th largest sample (1: the largest), equal values counted one by one. The 95th
    /// percentile of at most 64 samples is among the 4 largest, so a pass per rank costs less
    /// than sorting, and needs no array.
    static func largest(rank: Int, of samples: [UInt32]) -> UInt32 {
        var remaining = rank
        var below: UInt32? = nil
        while true {
            // The largest value under the one before, and how many samples hold it.
            var value: UInt32 = 0
            var count = 0
            for sample in samples where below.map({ sample < $0 }) ?? true {
                if count == 0 || sample > value {
                    value = sample
                    count = 1
                } else if sample == value {
                    count += 1
                }
            }
            if count >= remaining || count == 0 { return value }
            remaining -= count
            below = value
        }
    }
}

/// Latency per method and the hedge budget, shared by every event loop. Every read asks for its
/// hedge delay and reports its answer time, so neither goes through one lock: a read learns the
/// delay from its method's atomic, its answer locks only its own method's window, and the budget
/// is an atomic that a full reserve leaves unwritten.
final class LatencyEstimates: Sendable {
    /// The delay before a method has history enough to judge.
    static let initialDelay = Duration.milliseconds(250)
    /// Auto delays stay within this range: below it a hedge races ordinary jitter; above it a
    /// method that is slow by nature would be hedged on every call.
    static let minimumDelay = Duration.milliseconds(10)
    static let maximumDelay = Duration.seconds(3)
    /// Each read earns a tenth of a hedge, up to ten in reserve: at most about one read in ten
    /// is hedged in a steady stream, however slow the daemons get. Counted in tenths.
    static let budgetPerRead = 1
    static let hedgeCost = 10
    static let budgetCap = 100

    /// One method's window, and the delay it last gave (0: no history yet), readable without its lock.
    private final class MethodLatency: Sendable {
        let window = Mutex(LatencyWindow())
        let delayMicroseconds = Atomic<UInt32>(0)
    }

    private let v0: [MethodLatency]
    private let v1: [MethodLatency]
    private let budget = Atomic<Int>(LatencyEstimates.budgetCap)

    init() {
        self.v0 = RouteTable.entries(.v0).map { _ in MethodLatency() }
        self.v1 = RouteTable.entries(.v1).map { _ in MethodLatency() }
    }

    private func method(_ route: RouteID) -> MethodLatency {
        route.version == .v0 ? self.v0[route.index] : self.v1[route.index]
    }

    func record(_ route: RouteID, _ elapsed: Duration) {
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        let method = self.method(route)
        let delay = method.window.withLock { $0.record(microseconds: UInt32(clamping: max(0, micros))) }
        // Never 0 once known: 0 means "no history".
        if let delay { method.delayMicroseconds.store(max(1, delay), ordering: .relaxed) }
    }

    /// Every read adds to the hedge budget; a full reserve (the usual case) is only read.
    func earn() {
        var current = self.budget.load(ordering: .relaxed)
        while current < Self.budgetCap {
            let (exchanged, original) = self.budget.compareExchange(
                expected: current, desired: min(Self.budgetCap, current + Self.budgetPerRead), ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// Spends one hedge; false when the budget is spent.
    func spend() -> Bool {
        var current = self.budget.load(ordering: .relaxed)
        while current >= Self.hedgeCost {
            let (exchanged, original) = self.budget.compareExchange(expected: current, desired: current - Self.hedgeCost, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// The delay before hedging a read of `route` under `setting`; nil: do not hedge.
    func delay(_ route: RouteID, _ setting: HedgeSetting) -> Duration? {
        switch setting {
        case .off: return nil
        case .after(let fixed): return .milliseconds(Int(fixed.milliseconds))
        case .auto:
            let micros = self.method(route).delayMicroseconds.load(ordering: .relaxed)
            guard micros > 0 else { return Self.initialDelay }
            return min(Self.maximumDelay, max(Self.minimumDelay, .microseconds(Int64(micros))))
        }
    }
}
