// The faults a chaos run draws from (issue 13's list), what each does to the simulator, how
// it is undone, and how soon the pool must close the channels of the daemon it hits.

import LotusSim
import LotusWire

/// One kind of fault.
enum ChaosFaultKind: String, CaseIterable, Sendable {
    case kill
    case restart
    case pause
    case blackHole = "black hole"
    case latency
    case peerLoss = "peer loss"
    case lag
    case blockNotFound = "block not found"
    case nullRounds = "null rounds"
    case otherNetwork = "other network"

    /// Null rounds hit the whole network; every other kind hits one daemon.
    var targetsDaemon: Bool { self != .nullRounds }

    /// How the pool learns that the daemon can no longer serve channels; nil when it still can
    /// (a slow daemon, a few failing calls, a network without blocks), so its channels may stay.
    var channelLoss: ChannelLossSignal? {
        switch self {
        case .kill, .restart, .otherNetwork: .socket
        case .blackHole, .peerLoss, .lag: .probe
        case .pause: .silence
        case .latency, .blockNotFound, .nullRounds: nil
        }
    }
}

/// How a fault that makes a daemon unfit to serve channels becomes visible to the pool.
enum ChannelLossSignal: String, CaseIterable, Sendable {
    /// The daemon's sockets close (killed, restarted): the pool hears of it at once.
    case socket
    /// Only a heartbeat's probe shows it (silent, no peers, behind the other heads).
    case probe
    /// Its head stops while the others move: ChainNotify falls silent (ChannelSilence), and
    /// a few blocks later NodeStatus says it is behind.
    case silence

    /// How soon after the fault no channel of the daemon may remain open.
    func bound(_ configuration: ChaosConfiguration) -> Duration {
        let margin = Duration.milliseconds(500)
        switch self {
        // The pool's next step after the socket closes; one heartbeat is generous.
        case .socket: return configuration.heartbeat + margin
        // The next heartbeat may start an interval late (a beat waiting on another silent
        // node lasts an interval too), and its probe of a silent node times out after one.
        case .probe: return configuration.heartbeat * 3 + margin
        // The silence itself, then the probe-detected case's next heartbeat.
        case .silence: return configuration.channelSilence + configuration.heartbeat * 2 + margin
        }
    }

    var label: String {
        switch self {
        case .socket: "kill, restart, other network"
        case .probe: "black hole, peer loss, lag"
        case .silence: "pause"
        }
    }
}

/// One fault of the schedule: when, what, where, for how long.
struct PlannedFault: Sendable, Equatable {
    /// From the start of the load (warm-up included).
    let at: Duration
    let kind: ChaosFaultKind
    /// The daemon it hits (nil for null rounds).
    let daemon: Int?
    /// How long until it is undone (for null rounds: how long they last).
    let hold: Duration
    /// The fault's size: milliseconds of latency, epochs of lag, failing calls, null rounds.
    let amount: Int
    /// For block-not-found: the method whose calls fail.
    let method: String?

    var end: Duration { self.at + self.hold }

    /// The simulator fault that starts it (nil for null rounds, which the cluster schedules).
    var injection: SimFault? {
        switch self.kind {
        case .kill: .kill
        case .restart: .restart
        case .pause: .pauseSync(true)
        case .blackHole: .blackHole(true)
        case .latency: .latency(milliseconds: self.amount)
        case .peerLoss: .peers(message: 0, block: 0)
        case .lag: .lag(epochs: Int64(self.amount))
        case .blockNotFound: .failNext(method: self.method ?? "ChainGetTipSet", count: self.amount, error: Self.blockNotFound)
        case .otherNetwork: .network(name: "chaosnet-elsewhere")
        case .nullRounds: nil
        }
    }

    /// The simulator fault that undoes it (nil when nothing is left to undo).
    var undo: SimFault? {
        switch self.kind {
        case .kill: .start
        case .restart, .nullRounds: nil
        case .pause: .pauseSync(false)
        case .blackHole: .blackHole(false)
        case .latency: .latency(milliseconds: 0)
        // A daemon's default peers (SimDaemonState): five of each.
        case .peerLoss: .peers(message: 5, block: 5)
        case .lag: .lag(epochs: 0)
        case .blockNotFound: .failNext(method: self.method ?? "ChainGetTipSet", count: 0, error: Self.blockNotFound)
        case .otherNetwork: .network(name: nil)
        }
    }

    /// Lotus v1.15's text for a tipset whose block the node lacks (LOTUS-WIRE.md §7), as a
    /// daemon still syncing answers.
    static let blockNotFound = RPCError(
        code: 1,
        message:
            "loading tipset {bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2}: get block bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2: blockstore: block not found"
    )

    var description: String {
        let target = self.daemon.map { "sim-daemon-\($0)" } ?? "every daemon"
        let size =
            switch self.kind {
            case .latency: " \(self.amount) ms"
            case .lag: " \(self.amount) epochs"
            case .blockNotFound: " ×\(self.amount) \(self.method ?? "")"
            case .nullRounds: " ×\(self.amount)"
            default: ""
            }
        return "\(self.kind.rawValue)\(size) on \(target) for \(self.hold.figure)"
    }
}
