// Resident memory over a run: its peak (sampled twice a second) and about ten samples spread
// over the run, which show a leak as a slope and warm-up as a step.

struct MemoryTrace: Sendable {
    /// What the trace saw.
    struct Figures: Sendable {
        /// At `baselineAt`: what the end is compared with, and what the pool's result cache
        /// held then (bounded by its own setting, kept on purpose: not a leak).
        var baseline: (seconds: Double, bytes: UInt64, cached: UInt64)?
        var peak: UInt64?
        /// (seconds since the start, bytes), one per `every`.
        var samples: [(seconds: Double, bytes: UInt64)] = []
    }

    let start: ContinuousClock.Instant
    /// How often a sample is kept (and printed).
    let every: Duration
    /// When the baseline is taken.
    let baselineAt: Duration
    /// The bytes the pool's result cache holds now.
    let cached: @Sendable () -> UInt64
    let progress: @Sendable (String) -> Void

    /// Samples until cancelled.
    func run() async -> Figures {
        var figures = Figures()
        var next = self.start + self.every
        while !Task.isCancelled {
            if let now = ResidentMemory.current() {
                figures.peak = max(figures.peak ?? 0, now)
                if figures.baseline == nil && ContinuousClock.now >= self.start + self.baselineAt {
                    figures.baseline = ((ContinuousClock.now - self.start).seconds, now, self.cached())
                }
                if ContinuousClock.now >= next {
                    let seconds = (ContinuousClock.now - self.start).seconds
                    figures.samples.append((seconds, now))
                    self.progress("memory: \(ResidentMemory.figure(now)) resident at \(Int(seconds)) s")
                    next += self.every
                }
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
        return figures
    }
}
