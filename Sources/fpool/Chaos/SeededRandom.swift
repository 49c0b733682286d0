// A random number generator from a seed (SplitMix64): the same seed gives the same fault
// schedule and the same workload choices, so a failed chaos run can be replayed.

import LotusSim

/// The simulator's SplitMix64, with independent streams per worker.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var generator: SimRandom

    init(seed: UInt64) {
        self.generator = SimRandom(seed: seed)
    }

    /// An independent stream for one worker: its draws do not depend on how far another
    /// worker got, which varies from run to run with timing.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SimRandom(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        self.generator = SimRandom(seed: mixer.next())
    }

    mutating func next() -> UInt64 { self.generator.next() }

    /// A duration drawn uniformly between `range`'s bounds, to the millisecond.
    mutating func duration(in range: ClosedRange<Duration>) -> Duration {
        let low = range.lowerBound.milliseconds
        let high = range.upperBound.milliseconds
        return .milliseconds(Int64.random(in: low...max(low, high), using: &self))
    }
}
