// A random number generator from a seed (SplitMix64): the same seed gives the same fault
// schedule and the same workload choices, so a failed chaos run can be replayed.

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to draw test workloads.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    /// An independent stream for one worker: its draws do not depend on how far another
    /// worker got, which varies from run to run with timing.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SeededRandom(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        self.state = mixer.next()
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A duration drawn uniformly between `range`'s bounds, to the millisecond.
    mutating func duration(in range: ClosedRange<Duration>) -> Duration {
        let low = range.lowerBound.milliseconds
        let high = range.upperBound.milliseconds
        return .milliseconds(Int64.random(in: low...max(low, high), using: &self))
    }
}
