// One mix client's state: the head it follows (from its own ChainNotify values), the recent
// objects it reads, and the request for its next call. A value owned by one connection's
// handler, on that connection's event loop; no I/O.

import Foundation
import NIOCore

/// The head a client follows, as its ChainNotify channel last announced it.
struct MixHead: Sendable, Equatable {
    let height: Int64
    let cids: [String]
    /// The TipSetKey as JSON, written the same way by every client: fpool's cache is keyed by
    /// the exact param bytes, so clients at the same head must send the same bytes (as
    /// lotus-miners do, whose go-jsonrpc encodes a key one way).
    let key: String

    init(height: Int64, cids: [String]) {
        self.height = height
        self.cids = cids
        self.key = "[" + cids.map { #"{"/":"\#($0)"}"# }.joined(separator: ",") + "]"
    }

    /// The newest tipset a ChainNotify value (`xrpc.ch.val`) makes the head: its last `current`
    /// or `apply` change. Nil for a value that only reverts, or one not shaped as Lotus's.
    init?(notifyValue object: [String: Any]) {
        guard let params = object["params"] as? [Any], params.count > 1, let changes = params[1] as? [[String: Any]],
            let newest = changes.last(where: { ($0["Type"] as? String) != "revert" }),
            let tipset = newest["Val"] as? [String: Any], let height = (tipset["Height"] as? NSNumber)?.int64Value,
            let key = tipset["Cids"] as? [[String: Any]]
        else { return nil }
        let cids = key.compactMap { $0["/"] as? String }
        guard !cids.isEmpty, cids.count == key.count else { return nil }
        self.init(height: height, cids: cids)
    }
}

struct MinerMixClient {
    /// How many of the latest heads' blocks ChainReadObj reads (the "recent objects").
    static let keptHeads = 3

    let miner: MixMiner
    /// Whether ChainReadObj also reads the miner actor's Head (only if the daemons can: the
    /// run probes it once).
    let readsActorHeads: Bool
    private(set) var head: MixHead?
    /// Where this client is in `MixCall.cycle`.
    private var position: Int
    private var recentHeads: [[String]] = []
    /// The blocks of `recentHeads`, oldest first.
    private var recentBlocks: [String] = []
    /// The Head CID this client's last StateGetActor answered.
    private var actorHead: String?
    private var reads = 0
    private var blockReads = 0
    private var partitionReads = 0
    /// The call in flight.
    private(set) var inFlight: MixCall?

    /// `start`: where in the cycle this client begins, so that connections are not in step.
    init(miner: MixMiner, start: Int, readsActorHeads: Bool) {
        self.miner = miner
        self.position = start % MixCall.cycle.count
        self.readsActorHeads = readsActorHeads
    }

    mutating func headChanged(to head: MixHead) {
        guard head != self.head else { return }
        self.head = head
        self.recentHeads.append(head.cids)
        if self.recentHeads.count > Self.keptHeads { self.recentHeads.removeFirst() }
        self.recentBlocks = self.recentHeads.flatMap { $0 }
    }

    /// The next call of the mix at the current head, as a request with `id`. Needs a head.
    mutating func nextRequest(id: Int) -> [UInt8] {
        let head = self.head!
        let call = MixCall.cycle[self.position]
        self.position = (self.position + 1) % MixCall.cycle.count
        self.inFlight = call
        let miner = #""\#(self.miner.address)""#
        let params: String
        switch call {
        case .chainReadObj:
            params = #"[{"/":"\#(self.nextObject())"}]"#
        case .chainHead:
            params = "[]"
        case .stateGetActor, .stateMinerInfo, .stateMinerProvingDeadline:
            params = "[\(miner),\(head.key)]"
        case .stateMinerPartitions:
            // The deadline being proved, then the one faults are declared for, in turn.
            let open = ProvingPeriod.deadline(at: head.height)
            self.partitionReads += 1
            let deadline = self.partitionReads % 2 == 1 ? open : ProvingPeriod.declared(after: open)
            params = "[\(miner),\(deadline),\(head.key)]"
        case .stateNetworkVersion:
            params = "[\(head.key)]"
        case .chainGetTipSetByHeight:
            params = "[\(ProvingPeriod.open(at: head.height)),\(head.key)]"
        case .stateGetRandomnessFromBeacon:
            params =
                #"[\#(ProvingPeriod.challengeSeedTag),\#(ProvingPeriod.challenge(at: head.height)),"\#(self.miner.entropy)",\#(head.key)]"#
        }
        return Array(#"{"jsonrpc":"2.0","method":"Filecoin.\#(call.rawValue)","params":\#(params),"id":\#(id)}"#.utf8)
    }

    /// Takes what the successful answer to the call in flight tells: a StateGetActor's Head.
    mutating func answered(_ payload: ByteBuffer) {
        guard self.inFlight == .stateGetActor, self.readsActorHeads, let offset = payload.offset(after: headMarker) else { return }
        self.actorHead = payload.stringValue(at: offset)
    }

    /// A recent head's block and, in turn with it, the miner actor's Head when it may be read.
    private mutating func nextObject() -> String {
        self.reads += 1
        if self.reads % 2 == 0, let actorHead = self.actorHead { return actorHead }
        self.blockReads += 1
        return self.recentBlocks[self.blockReads % self.recentBlocks.count]
    }
}

/// `"Head":{"/":"` — an actor's Head CID follows (StateGetActor's answer).
private let headMarker = Array(#""Head":{"/":""#.utf8)
