// How long and from which seed the fuzz targets run: bounded for CI by default, longer (and
// from a fresh seed) when FPOOL_FUZZ_SECONDS asks for it.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One target's budget and seed.
struct FuzzSettings: Sendable {
    /// Stop after this many mutated inputs (nil: only time bounds the run).
    let iterations: Int?
    /// Stop after this many seconds, whatever `iterations` says.
    let seconds: Double
    let seed: UInt64

    /// CI's budget: a fixed seed (the same inputs every run, so a failure is never flaky),
    /// the target's number of inputs, and a time cap for a slow machine.
    static let ciSeconds = 4.0
    static let ciSeed: UInt64 = 0xF9_0014

    /// From the environment:
    /// - `FPOOL_FUZZ_SECONDS`: seconds per target; the iteration cap is lifted and, unless
    ///   `FPOOL_FUZZ_SEED` is set too, the seed is fresh (printed, so a run can be replayed).
    /// - `FPOOL_FUZZ_SEED`: the seed, decimal or `0x` hex.
    /// - `FPOOL_FUZZ_ITERATIONS`: the number of inputs per target.
    static func fromEnvironment(ciIterations: Int) -> FuzzSettings {
        let seconds = Self.variable("FPOOL_FUZZ_SECONDS").flatMap(Double.init)
        let iterations = Self.variable("FPOOL_FUZZ_ITERATIONS").flatMap { Int($0) }
        let seed = Self.variable("FPOOL_FUZZ_SEED").flatMap(Self.parseSeed)
        if let seconds {
            return FuzzSettings(iterations: iterations, seconds: seconds, seed: seed ?? UInt64.random(in: 0...UInt64.max))
        }
        return FuzzSettings(iterations: iterations ?? ciIterations, seconds: Self.ciSeconds, seed: seed ?? Self.ciSeed)
    }

    private static func variable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    private static func parseSeed(_ text: String) -> UInt64? {
        text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }
}
