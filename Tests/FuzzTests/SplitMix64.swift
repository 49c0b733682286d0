// The fuzzer's random numbers: SplitMix64, small and fully determined by its seed, so a run
// (and the input it failed on) comes back from the seed alone.

/// Steele, Lea and Flood's SplitMix64 (the generator Java's `SplittableRandom` uses).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = self.state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in `0..<bound` (bound > 0). The modulo's bias is irrelevant here, and unlike
    /// `Int.random(in:using:)` the result cannot change with the standard library's version.
    mutating func below(_ bound: Int) -> Int {
        Int(self.next() % UInt64(bound))
    }

    /// True with probability 1/`odds`.
    mutating func oneIn(_ odds: Int) -> Bool {
        self.below(odds) == 0
    }

    mutating func pick<T>(_ choices: [T]) -> T {
        choices[self.below(choices.count)]
    }
}
