// What each method's answers have taken lately, and the hedge delay that follows from it; and a
// budget that keeps hedges a small share of reads, so a slow pool is never doubled in load.

import GeneratedRoutes

/// Recent answer times of one method (any node), and the delay derived from them.
struct LatencyWindow: Sendable {
    static let size = 64
    private var samples: [UInt32] = []
    private var next = 0
    private var sinceUpdate = 0
    /// 2 × the 95th percentile, recomputed every 16 samples (not per call: it sorts).
    private(set) var delayMicroseconds: UInt32?

    mutating func record(microseconds: UInt32) {
        if self.samples.count < Self.size {
            self.samples.append(microseconds)
        } else {
            self.samples[self.next] = microseconds
            self.next = (self.next + 1) % Self.size
        }
        self.sinceUpdate += 1
        // Judged from 16 answers on; refreshed every 16 after.
        guard self.samples.count >= 16, self.sinceUpdate >= 16 || self.delayMicroseconds == nil else { return }
        self.sinceUpdate = 0
        let sorted = self.samples.sorted()
        let p95 = sorted[min(sorted.count - 1, sorted.count * 95 / 100)]
        self.delayMicroseconds = p95 > UInt32.max / 2 ? UInt32.max : p95 * 2
    }
}

/// Latency per method and the hedge budget, as one value behind the pool's latency lock.
struct LatencyEstimates: Sendable {
    /// The delay before a method has history enough to judge.
    static let initialDelay = Duration.milliseconds(250)
    /// Auto delays stay within this range: below it a hedge races ordinary jitter; above it a
    /// method that is slow by nature would be hedged on every call.
    static let minimumDelay = Duration.milliseconds(10)
    static let maximumDelay = Duration.seconds(3)
    /// Each read earns a tenth of a hedge, up to ten in reserve: at most about one read in ten
    /// is hedged in a steady stream, however slow the daemons get.
    static let budgetPerRead = 0.1
    static let budgetCap = 10.0

    private var windows: [RouteID: LatencyWindow] = [:]
    private var budget = LatencyEstimates.budgetCap

    mutating func record(_ route: RouteID, _ elapsed: Duration) {
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        self.windows[route, default: LatencyWindow()].record(microseconds: UInt32(clamping: max(0, micros)))
    }

    /// Every read adds to the hedge budget.
    mutating func earn() {
        self.budget = min(Self.budgetCap, self.budget + Self.budgetPerRead)
    }

    /// Spends one hedge; false when the budget is spent.
    mutating func spend() -> Bool {
        guard self.budget >= 1 else { return false }
        self.budget -= 1
        return true
    }

    /// The delay before hedging a read of `route` under `setting`; nil: do not hedge.
    func delay(_ route: RouteID, _ setting: HedgeSetting) -> Duration? {
        switch setting {
        case .off: return nil
        case .after(let fixed): return .milliseconds(Int(fixed.milliseconds))
        case .auto:
            guard let micros = self.windows[route]?.delayMicroseconds else { return Self.initialDelay }
            return min(Self.maximumDelay, max(Self.minimumDelay, .microseconds(Int64(micros))))
        }
    }
}
