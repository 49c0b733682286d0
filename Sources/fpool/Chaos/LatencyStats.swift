// Call latencies kept in fixed log-spaced buckets: percentiles and the worst case in constant
// memory, however long the run.

import Foundation

/// A latency histogram with 16 buckets per doubling (about 4 % resolution), 1 µs to 71 min.
struct LatencyStats: Sendable {
    private(set) var count = 0
    private(set) var worst: Duration = .zero
    private var buckets = [Int](repeating: 0, count: 512)

    mutating func add(_ latency: Duration) {
        self.count += 1
        self.worst = max(self.worst, latency)
        self.buckets[Self.bucket(latency)] += 1
    }

    /// The latency below which `fraction` of the calls fell (a bucket's upper edge).
    func percentile(_ fraction: Double) -> Duration {
        guard self.count > 0 else { return .zero }
        let rank = max(1, Int((Double(self.count) * fraction).rounded(.up)))
        var seen = 0
        for (index, count) in self.buckets.enumerated() {
            seen += count
            if seen >= rank { return min(self.worst, .microseconds(Int64(Self.upperEdge(index).rounded(.up)))) }
        }
        return self.worst
    }

    private static func bucket(_ latency: Duration) -> Int {
        let microseconds = max(1, latency.seconds * 1e6)
        return min(511, max(0, Int(log2(microseconds) * 16)))
    }

    private static func upperEdge(_ index: Int) -> Double { exp2(Double(index + 1) / 16) }
}
