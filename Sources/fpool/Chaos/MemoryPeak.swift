// The highest resident memory seen during a run, sampled twice a second.

struct MemoryPeak: Sendable {
    /// Samples until cancelled; returns the highest value seen.
    func run() async -> UInt64? {
        var peak: UInt64?
        while !Task.isCancelled {
            if let now = ResidentMemory.current() { peak = max(peak ?? 0, now) }
            try? await Task.sleep(for: .milliseconds(500))
        }
        return peak
    }
}
