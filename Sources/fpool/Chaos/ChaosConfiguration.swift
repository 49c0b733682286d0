// What one chaos run does: its seed, length, cluster and load, the pool settings fitted to
// the simulator's block time, and the bounds the invariants hold it to.

import RouteModel

struct ChaosConfiguration: Sendable {
    var seed: UInt64
    /// How long load and faults run; settling and checking come after.
    var duration: Duration
    var nodes: Int
    var blockTime: Duration
    /// Clients that read in a loop (ChainHead, then reads pinned to that head).
    var readers = 4
    /// Clients that keep a ChainNotify channel and subscribe again when it closes.
    var subscribers = 4
    /// Senders pushing messages, each from its own funded account.
    var senders = 10
    /// Resident memory may grow this much between the end of warm-up and the end of the run.
    var memoryGrowthLimit = 0.5
    /// Whether the process runs nothing but this run, so that its resident memory is the
    /// run's (false in a test process, whose other suites allocate meanwhile).
    var ownsProcess = true
    /// The simulated daemons forget messages this many epochs old (a pruning node's
    /// blockstore): the chain's archive would otherwise grow with every message and hide
    /// fpool's own memory in the process's. Well past the readers' pinned heights (10 back)
    /// and the time a push takes to land.
    var messageHorizon: Int64 = 120

    // MARK: - Pool settings for a fast chain

    /// Heartbeats once per block by default, so the pool reacts within a block as it would on
    /// mainnet with its 3 s interval against a 30 s block time (ten times sooner, relatively).
    /// A heartbeat's probe must also finish within it.
    var heartbeat: Duration { self.heartbeatOverride ?? self.blockTime }
    /// Another heartbeat interval (the CI test's process runs every other suite meanwhile, and
    /// its probes need more time there).
    var heartbeatOverride: Duration?
    /// 1.5 block times, as the default against mainnet's 30 s (the setting's floor is 1 s).
    var channelSilence: Duration { max(self.blockTime * 1.5, .seconds(1)) }
    /// About one block time for a pinned read to find a node that has reached its tipset.
    var tipsetWait: Duration { self.blockTime * 2 }

    /// The pool's settings as `config set` takes them.
    var poolSettings: [(key: String, value: String)] {
        [
            ("HeartbeatInterval", GoDuration(milliseconds: UInt32(self.heartbeat.milliseconds)).description),
            ("ChannelSilence", GoDuration(milliseconds: UInt32(self.channelSilence.milliseconds)).description),
            ("TipsetWait", GoDuration(milliseconds: UInt32(self.tipsetWait.milliseconds)).description),
        ]
    }

    // MARK: - Phases

    /// Load runs this long before the first fault; memory is measured at its end.
    var warmUp: Duration { max(self.blockTime * 3, .seconds(2)) }
    /// When resident memory is first measured: once the simulated daemons hold their full
    /// message horizon, when the run lasts long enough for that to be a fraction of it (until
    /// then their archive grows, not fpool), else at the end of warm-up.
    var memoryBaselineAt: Duration {
        let archiveFull = self.blockTime * Int(self.messageHorizon) + .seconds(10)
        return archiveFull <= self.duration / 2 ? archiveFull : self.warmUp
    }
    /// After the faults: how long the network may take to include every pending message and
    /// bring every node back.
    var settleLimit: Duration { max(self.blockTime * 10, .seconds(10)) }

    // MARK: - Bounds

    /// A read may wait TipsetWait for a node to reach its tipset, then find the node it tried
    /// silent: the next heartbeat (up to one interval away, and one more to time the silent
    /// probe out) takes it out of the rotation.
    var readBound: Duration { self.tipsetWait + self.heartbeat * 2 + .seconds(1) }
    /// A push whose node went silent waits for the heartbeat that resets it (up to three
    /// intervals: the next beat, a slow beat before it, the probe's own timeout); nonce-safe
    /// failover then waits up to TipsetWait, and a heartbeat for the nodes to change, on each
    /// other node in turn.
    var pushBound: Duration { self.heartbeat * 3 + (self.tipsetWait + self.heartbeat) * (self.nodes - 1) + .seconds(1) }
    /// A closed channel's client subscribes again on another node at once.
    var resubscribeBound: Duration { self.heartbeat + .seconds(1) }
    /// A call the harness gives up on (counted as failed): well past every bound, so a hang
    /// cannot stall the run.
    var callLimit: Duration { max(self.pushBound * 3, .seconds(15)) }

    /// The command that replays this run.
    var replayCommand: String {
        "fpool chaos --seed \(self.seed) --duration \(GoDuration(milliseconds: UInt32(self.duration.milliseconds)))"
            + " --nodes \(self.nodes) --block-time \(GoDuration(milliseconds: UInt32(self.blockTime.milliseconds)))"
            + (self.heartbeatOverride.map { " --heartbeat \(GoDuration(milliseconds: UInt32($0.milliseconds)))" } ?? "")
            + (self.readers == 4 ? "" : " --readers \(self.readers)") + (self.senders == 10 ? "" : " --senders \(self.senders)")
            + (self.subscribers == 4 ? "" : " --subscribers \(self.subscribers)")
    }
}
