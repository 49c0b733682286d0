// Runs one fuzz target for its budget: mutates the corpus, checks every input, keeps inputs
// that made the reader do something new, and on a broken property records the seed and the
// input, minimised, so it can be replayed and kept as a regression case.

import Testing

/// What one run did.
struct FuzzStats: Sendable, CustomStringConvertible {
    let target: String
    let seed: UInt64
    let executions: Int
    let seconds: Double
    let corpus: Int
    let behaviours: Int
    let failures: Int

    var description: String {
        let rate = self.seconds > 0 ? Int(Double(self.executions) / self.seconds) : 0
        return "fuzz \(self.target): \(self.executions) inputs in \(String(format2: self.seconds)) s (\(rate)/s), "
            + "\(self.behaviours) behaviours, corpus \(self.corpus), seed 0x\(String(self.seed, radix: 16)), \(self.failures) failures"
    }
}

enum FuzzRunner {
    /// The corpus stops growing here: picking parents stays cheap and varied.
    static let maxCorpus = 4096
    /// One input taking this long is a failure (a quadratic path, or a near-hang).
    static let slowSeconds = 5.0

    /// Fuzzes `target` and records an issue for the first broken property.
    @discardableResult
    static func run(_ target: FuzzTarget) -> FuzzStats {
        Self.run(target, settings: .fromEnvironment(ciIterations: target.ciIterations))
    }

    @discardableResult
    static func run(_ target: FuzzTarget, settings: FuzzSettings) -> FuzzStats {
        // Each target draws its own stream from the one seed.
        let streamSeed = settings.seed ^ target.name.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
        var random = SplitMix64(seed: streamSeed)
        let inFlight = InputInFlight(target: target.name, seed: settings.seed)
        let watchdog = inFlight.watchThisThread()
        defer { watchdog.cancel() }
        let clock = ContinuousClock()
        let start = clock.now
        var corpus: [[UInt8]] = []
        var behaviours: Set<String> = []
        var executions = 0
        var failures = 0

        func failed(_ input: [UInt8], _ failure: FuzzFailure, number: Int) {
            failures += 1
            // Checked in flight too: a crash while minimising still names its input.
            let minimised = Self.minimise(input) { (candidate) throws(FuzzFailure) in try inFlight.checking(candidate, target.check).get() }
            let failureOfMinimised =
                switch inFlight.checking(minimised, target.check) {
                case .success: "nothing: it passes alone"
                case .failure(let failure): failure.description
                }
            Issue.record(
                """
                fuzz \(target.name): \(failure)
                seed 0x\(String(settings.seed, radix: 16)), input \(number), \(input.count) bytes (hex): \(input.hex)
                minimised to \(minimised.count) bytes (hex): \(minimised.hex)
                which fails with: \(failureOfMinimised)
                Keep the minimised input among \(target.name)'s regression cases.
                """)
        }

        // The seeds must pass as they are; they also give the first behaviours.
        for seed in target.seeds {
            switch inFlight.checking(seed, target.check) {
            case .success(let behaviour):
                behaviours.insert(behaviour)
                corpus.append(seed)
            case .failure(let failure): failed(seed, failure, number: -1)
            }
        }
        guard failures == 0, !corpus.isEmpty else { return Self.stats(target, settings, executions, start, corpus, behaviours, failures) }

        while settings.iterations.map({ executions < $0 }) ?? true, (clock.now - start).seconds < settings.seconds {
            let input = target.mutator.mutate(random.pick(corpus), corpus: corpus, random: &random)
            let began = clock.now
            let outcome = inFlight.checking(input, target.check)
            let took = (clock.now - began).seconds
            executions += 1
            switch outcome {
            case .success(let behaviour):
                if took > Self.slowSeconds {
                    failures += 1
                    Issue.record(
                        "fuzz \(target.name): one input took \(took) s; seed 0x\(String(settings.seed, radix: 16)), input (hex): \(input.hex)"
                    )
                }
                let isNew = behaviours.insert(behaviour).inserted
                if corpus.count < Self.maxCorpus && (isNew || random.oneIn(500)) { corpus.append(input) }
            case .failure(let failure):
                failed(input, failure, number: executions)
            }
            if failures > 0 { break }
        }
        let stats = Self.stats(target, settings, executions, start, corpus, behaviours, failures)
        print(stats)
        return stats
    }

    private static func stats(
        _ target: FuzzTarget, _ settings: FuzzSettings, _ executions: Int, _ start: ContinuousClock.Instant, _ corpus: [[UInt8]],
        _ behaviours: Set<String>, _ failures: Int
    ) -> FuzzStats {
        FuzzStats(
            target: target.name, seed: settings.seed, executions: executions, seconds: (ContinuousClock.now - start).seconds,
            corpus: corpus.count, behaviours: behaviours.count, failures: failures)
    }

    /// The shortest input found by cutting chunks (halves, quarters, … single bytes) out of
    /// `input` while it still fails, within `attempts` checks and `seconds`.
    static func minimise(
        _ input: [UInt8], _ check: ([UInt8]) throws(FuzzFailure) -> String, attempts: Int = 20_000, seconds: Double = 10
    ) -> [UInt8] {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var best = input
        var chunk = max(1, best.count / 2)
        var left = attempts
        while left > 0 && ContinuousClock.now < deadline {
            var start = 0
            var shrank = false
            while start < best.count && left > 0 {
                left -= 1
                var candidate = best
                candidate.removeSubrange(start..<min(best.count, start + chunk))
                if (try? check(candidate)) == nil {
                    best = candidate
                    shrank = true
                } else {
                    // Small chunks of short inputs are tried at every offset: a member or an
                    // escape rarely starts on a multiple of its length.
                    start += chunk <= 16 && best.count <= 512 ? 1 : chunk
                }
            }
            if !shrank {
                guard chunk > 1 else { break }
                chunk /= 2
            }
        }
        return best
    }

    /// Checks one kept input: a regression case.
    static func replay(_ target: FuzzTarget, hex: String) {
        guard let input = [UInt8](hex: hex) else {
            Issue.record("not hex: \(hex)")
            return
        }
        #expect(throws: Never.self) { try target.check(input) }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

extension String {
    /// `1.25` for 1.2549: two decimals without Foundation.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
