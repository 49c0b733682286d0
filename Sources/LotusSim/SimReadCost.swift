// The CPU a simulated daemon spends on a state read. A real daemon loads and decodes state-tree
// nodes for each one, far more work than a proxy's lookup; burning a configured amount of real
// CPU per call lets a benchmark see what a proxy saves the daemons in CPU, not only in latency.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// Which calls pay `SimConfiguration.stateReadCost`, and the paying. A value: the world holds one.
struct SimReadCost: Sendable {
    /// The calls that load state in Lotus (an actor, a miner's info or deadlines, a message
    /// search, randomness at a tipset), and ChainReadObj (a blockstore read). Identity, chain
    /// navigation and mpool calls stay free, as they are cheap in Lotus.
    static let methods: Set<String> = [
        "StateGetActor", "StateLookupID", "StateAccountKey", "StateMinerInfo", "StateMinerProvingDeadline", "StateMinerPartitions",
        "StateMinerSectors", "StateSearchMsg", "StateGetRandomnessFromBeacon", "StateGetRandomnessFromTickets", "WalletBalance",
        "ChainReadObj",
    ]

    /// The CPU time each such call burns; zero burns nothing.
    let perCall: Duration

    /// Spins on deterministic arithmetic until the calling thread has used `perCall` of CPU
    /// time, and returns the CPU time it used. The thread's own CPU clock is the measure, so
    /// time the thread spends descheduled on a busy machine does not count as work; the loop
    /// still ends after 100 × `perCall` of wall time should the thread get no CPU at all.
    func burn() -> Duration {
        guard self.perCall > .zero else { return .zero }
        let wallStart = ContinuousClock.now
        // Without a thread CPU clock (never seen on Linux or macOS), wall time stands in.
        let cpuStart = Self.threadCPUTime()
        let elapsed: () -> Duration = {
            guard let cpuStart, let now = Self.threadCPUTime() else { return ContinuousClock.now - wallStart }
            return now - cpuStart
        }
        var value: UInt64 = 0x9E37_79B9_7F4A_7C15
        var used = Duration.zero
        repeat {
            for step in 0..<512 { value = SimRandom.fold(value, UInt64(step)) }
            used = elapsed()
        } while used < self.perCall && ContinuousClock.now - wallStart < self.perCall * 100
        // Stored, so that the optimiser cannot drop the work as unused.
        Self.sink.store(value, ordering: .relaxed)
        return used
    }

    private static let sink = Atomic<UInt64>(0)

    /// The calling thread's CPU time (user and system); nil if the system cannot tell.
    static func threadCPUTime() -> Duration? {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return nil }
        return .seconds(Int64(time.tv_sec)) + .nanoseconds(Int64(time.tv_nsec))
    }
}
