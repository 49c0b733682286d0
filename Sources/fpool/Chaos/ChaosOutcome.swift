// Everything measured in one chaos run, gathered after it settled: what the report's
// invariants are computed from.

struct ChaosOutcome: Sendable {
    let configuration: ChaosConfiguration
    let faults: [FaultRecord]
    let calls: ChaosRecorder.Calls
    let channels: ChaosRecorder.Channels
    let senders: [SenderAudit]
    /// Valid messages the chain never included after settling.
    let waitingMessages: Int
    /// Resident memory at the end of the run (after settling).
    let memoryEnd: UInt64?
    /// What the pool's result cache held then (its bound is FPOOL_CACHE_BYTES).
    let cachedEnd: UInt64
    /// Its baseline, peak and samples over the run.
    let memory: MemoryTrace.Figures
    /// How long the network took to settle after the last fault; nil when it never did.
    let settleTime: Duration?
    /// What ChainHead through fpool answered after the run (nil: it answered).
    let endProblem: String?
    /// Subscribers with a value since the run settled.
    let liveSubscribers: Int
    /// The network's height at the end.
    let height: Int64
    /// Time during which no daemon answered at all.
    let allSilentTime: Duration
    let elapsed: Duration
}
