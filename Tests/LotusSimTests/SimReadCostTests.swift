// The configured CPU cost of a state read: burned on the daemon for state reads and
// ChainReadObj only, seen in the simulator's own count and in the process's CPU time.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import LotusSim
import LotusWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimReadCostTests {
    /// CPU time of this whole process so far (every thread, user and system).
    func processCPUTime() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return .seconds(Int64(time.tv_sec)) + .nanoseconds(Int64(time.tv_nsec))
    }

    @Test func stateReadsBurnTheConfiguredCPUOnTheirDaemon() async throws {
        try await withCluster(nodes: 2, stateReadCost: .milliseconds(5)) { cluster in
            cluster.advance(1)
            let client = try await cluster.client(0)
            // Chain navigation is not a state read: free.
            let head = try await client.call("Filecoin.ChainHead")
            _ = try await client.call("Filecoin.ChainGetTipSetByHeight", [1, []])
            #expect(cluster.stateReadCPU(daemon: 0) == .zero)

            let before = self.processCPUTime()
            for _ in 0..<10 { _ = try await client.call("Filecoin.StateGetActor", ["f01000", []]) }
            _ = try await client.call("Filecoin.StateMinerInfo", ["f01000", []])
            _ = try await client.call("Filecoin.ChainReadObj", [try #require(head["Cids"]?[0])])
            // Twelve reads of at least 5 ms of CPU each, counted on the daemon that served them;
            // the process's CPU clock agrees that the work was done (not slept).
            let spent = cluster.stateReadCPU(daemon: 0)
            #expect(spent >= .milliseconds(60), "\(spent)")
            #expect(self.processCPUTime() - before >= .milliseconds(60))
            #expect(cluster.stateReadCPU(daemon: 1) == .zero)
        }
    }

    @Test func byDefaultStateReadsCostNothing() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            for _ in 0..<5 { _ = try await client.call("Filecoin.StateGetActor", ["f01000", []]) }
            #expect(cluster.stateReadCPU(daemon: 0) == .zero)
        }
    }
}
