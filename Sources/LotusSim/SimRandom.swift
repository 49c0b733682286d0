// A small deterministic number generator (SplitMix64): the same seed gives the same numbers on
// every run, build and platform, which Swift's own hashing (seeded per process) and the standard
// library's `random(in:using:)` (whose algorithm may change) do not promise.

/// SplitMix64, as in Vigna's reference code. Ranges are taken by plain modulo on purpose: the
/// simulator needs stable numbers, not perfectly even ones. `fpool chaos` draws its schedule
/// from it too.
package struct SimRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) {
        self.state = seed
    }

    /// Seeded by the first eight bytes of `bytes` (a hash digest), big-endian.
    init(seed bytes: some Sequence<UInt8>) {
        self.state = bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    package mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = self.state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in `range`.
    mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(self.next() % UInt64(range.count))
    }

    /// `value` folded into `digest`: a running digest of a sequence of values, for state that must
    /// remember what happened to it (and in which order), not only a total.
    static func fold(_ digest: UInt64, _ value: UInt64) -> UInt64 {
        var random = SimRandom(seed: digest ^ (value &* 0xD6E8_FEB8_6659_FD93))
        return random.next()
    }

    /// `text` folded into `digest`, byte by byte.
    static func fold(_ digest: UInt64, _ text: String) -> UInt64 {
        text.utf8.reduce(digest) { self.fold($0, UInt64($1)) }
    }
}
