// The faults of one run, drawn from its seed before anything starts: the same seed gives the
// same schedule, so a failure can be replayed fault for fault.

/// A fault every 1–3 s from the end of warm-up to the end of the load, each undone before the
/// load ends. At least one daemon is neither faulted nor recovering at any moment (null rounds
/// aside, which every daemon answers through), so every read has a daemon that can answer it
/// and that the pool knows it can.
struct FaultSchedule: Sendable {
    let faults: [PlannedFault]

    /// Methods whose calls the block-not-found fault fails: the readers' pinned reads.
    static let blockNotFoundMethods = ["ChainGetTipSetByHeight", "StateGetActor"]

    init(_ configuration: ChaosConfiguration) {
        var random = SeededRandom(seed: configuration.seed, stream: 0)
        let blockTime = configuration.blockTime
        let end = configuration.duration
        // A daemon whose fault was undone serves again from the pool's next heartbeat on (an
        // interval away, one more when a silent node slows that beat): until then it counts
        // as faulted.
        let recovery = configuration.heartbeat * 2 + .milliseconds(500)
        var faults: [PlannedFault] = []
        // Kinds are dealt from a shuffled deck, so that even a short run sees most of them.
        var deck: [ChaosFaultKind] = []
        var at = configuration.warmUp
        while true {
            at += random.duration(in: .seconds(1) ... .seconds(3))
            guard at + blockTime < end else { break }
            if deck.isEmpty { deck = ChaosFaultKind.allCases.shuffled(using: &random) }
            let active = faults.filter { $0.end + ($0.kind.targetsDaemon ? recovery : .zero) > at }
            let busy = Set(active.compactMap(\.daemon))
            let free = (0..<configuration.nodes).filter { !busy.contains($0) }
            // One daemon always stays untouched; one spell of null rounds at a time.
            let placeable = deck.firstIndex { kind in
                kind.targetsDaemon ? free.count >= 2 : !active.contains { $0.kind == .nullRounds }
            }
            guard let placeable else { continue }
            let kind = deck.remove(at: placeable)
            // Long enough for the pool to show what it does about it: a fault that closes
            // channels lasts past its closing bound.
            let shortest = max(blockTime * 3, (kind.channelLoss?.bound(configuration) ?? .zero) + blockTime)
            var hold = min(random.duration(in: shortest...shortest + blockTime * 2), end - at)
            var amount = 0
            var method: String?
            switch kind {
            case .latency: amount = Int(Int64.random(in: 10...60, using: &random) * blockTime.milliseconds / 100)
            case .lag: amount = Int.random(in: 3...6, using: &random)
            case .blockNotFound:
                amount = Int.random(in: 5...20, using: &random)
                method = Self.blockNotFoundMethods.randomElement(using: &random)
            case .nullRounds:
                amount = Int.random(in: 2...4, using: &random)
                hold = blockTime * amount
            default: break
            }
            let pick = UInt64.random(in: 0...UInt64.max, using: &random)
            // Null rounds end before the load does, so the run ends on a moving chain.
            if kind == .nullRounds && at + hold >= end { continue }
            let target = kind.targetsDaemon ? free[Int(pick % UInt64(free.count))] : nil
            faults.append(PlannedFault(at: at, kind: kind, daemon: target, hold: hold, amount: amount, method: method))
        }
        self.faults = faults
    }
}
