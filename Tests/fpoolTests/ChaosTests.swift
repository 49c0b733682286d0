// The chaos test of issue 13, CI-sized: 3 simulated daemons and fpool in this process, a mixed
// load and a seeded fault schedule for 30 s, then every invariant must hold. The same harness
// runs minutes long as `fpool chaos` (Benchmarks/chaos/run.sh).

import Foundation
import Testing

@testable import fpool

@Suite struct ChaosTests {
    /// Seed 39's schedule deals 9 of the 10 fault kinds within 30 s. FPOOL_CHAOS_SEED replays
    /// another seed (a failure of `fpool chaos`, say) under the test.
    static let seed = ProcessInfo.processInfo.environment["FPOOL_CHAOS_SEED"].flatMap { UInt64($0) } ?? 39

    @Test(.timeLimit(.minutes(2))) func everyInvariantHoldsUnderRandomFaults() async throws {
        var configuration = ChaosConfiguration(seed: Self.seed, duration: .seconds(30), nodes: 3, blockTime: .seconds(1))
        // The other suites run in this process meanwhile: its resident memory is theirs too
        // (`fpool chaos` judges it, alone in its process), and on 2 cores they starve the
        // heartbeat's probes (4 calls in turn, each a few task hops) past 1 s at times. (A 3 s
        // heartbeat was tried: a daemon whose restart met a failed redial then came back a
        // whole beat later, and a channel's client waited 5.5 s to subscribe again; run as a
        // process of its own, `fpool chaos` took the CPU from the other suites instead.)
        configuration.ownsProcess = false
        configuration.heartbeatOverride = .seconds(2)
        print("chaos seed \(configuration.seed) (replay: \(configuration.replayCommand))")
        // Every log line of the pool and the daemons, kept when an invariant fails.
        let logPath = FileManager.default.temporaryDirectory.appending(
            path: "fpool-chaos-test-\(configuration.seed)-\(UUID().uuidString).log"
        )
        .path(percentEncoded: false)
        let log = try ChaosLog(path: logPath)
        let report = try await ChaosRun(configuration: configuration, progress: { print($0) }, log: log.sink).run()
        log.close()
        print(report.text)
        for check in report.checks where check.passed == false {
            Issue.record(
                "\(check.invariant): measured \(check.measured), bound \(check.bound) (seed \(configuration.seed); log \(logPath))")
        }
        if report.passed { try? FileManager.default.removeItem(atPath: logPath) }
    }
}
