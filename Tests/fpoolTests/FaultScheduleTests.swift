// The chaos test's fault schedule: the same seed gives the same faults, and whatever the seed,
// one daemon is always left alone and every fault is over before the load ends.

import Testing

@testable import fpool

@Suite struct FaultScheduleTests {
    @Test func theSameSeedGivesTheSameSchedule() {
        let configuration = ChaosConfiguration(seed: 7, duration: .seconds(60), nodes: 4, blockTime: .seconds(1))
        #expect(FaultSchedule(configuration).faults == FaultSchedule(configuration).faults)
        var other = configuration
        other.seed = 8
        #expect(FaultSchedule(configuration).faults != FaultSchedule(other).faults)
    }

    @Test(arguments: [3, 4, 5]) func oneDaemonIsAlwaysLeftAloneAndEveryFaultEndsInTime(nodes: Int) {
        for seed in UInt64(0)..<200 {
            let configuration = ChaosConfiguration(seed: seed, duration: .seconds(60), nodes: nodes, blockTime: .seconds(1))
            let faults = FaultSchedule(configuration).faults
            #expect(!faults.isEmpty)
            for fault in faults {
                #expect(fault.at >= configuration.warmUp && fault.end <= configuration.duration, "seed \(seed): \(fault.description)")
                // At each fault's start, the daemons faulted then (or recovering, two heartbeats
                // on) leave one untouched.
                let busy = Set(
                    faults.filter { $0.daemon != nil && $0.at <= fault.at && $0.end + configuration.heartbeat * 2 > fault.at }
                        .compactMap(\.daemon))
                #expect(busy.count < nodes, "seed \(seed): every daemon faulted at \(fault.at)")
            }
            let nullRounds = faults.filter { $0.kind == .nullRounds }
            for (first, second) in zip(nullRounds, nullRounds.dropFirst()) { #expect(first.end <= second.at, "seed \(seed)") }
        }
    }

    @Test func everyKindComesUpInALongRun() {
        let configuration = ChaosConfiguration(seed: 1, duration: .seconds(600), nodes: 5, blockTime: .seconds(1))
        #expect(Set(FaultSchedule(configuration).faults.map(\.kind)) == Set(ChaosFaultKind.allCases))
    }
}
