// The eight routing policies (PRODUCT.md §4) as an order over the available nodes.

import RouteModel

/// A node the picker may choose: its pool index and what the last heartbeat measured.
public struct Candidate: Sendable, Hashable {
    /// The node's pool index (stable: indices never shift, even after a node exits).
    public let index: Int
    /// The node's ChainHead height at the last heartbeat; 0 before the first one measured it.
    public let head: Int64
    /// The node's message-publishing peers at the last heartbeat (OneByMessagePeersDesc); 0 before the first.
    public let messagePeers: UInt64
    /// The node's block-publishing peers at the last heartbeat (OneByBlockPeersDesc); 0 before the first.
    public let blockPeers: UInt64

    /// A candidate; the pool builds these from its node records whenever nodes change, tests build them directly.
    public init(index: Int, head: Int64, messagePeers: UInt64, blockPeers: UInt64) {
        self.index = index
        self.head = head
        self.messagePeers = messagePeers
        self.blockPeers = blockPeers
    }
}

/// The order in which to try candidates: the first is the policy's pick, the rest are the
/// fallbacks on failure. Rotations (the round-robin policies, the default among them) need
/// no storage of their own, so the common path allocates nothing.
public struct PickOrder: Sendable, RandomAccessCollection {
    enum Storage: Sendable {
        case rotation(candidates: [Candidate], start: Int)
        case explicit([Candidate])
    }

    let storage: Storage
    /// AllWithFirstSucceed: send to every candidate at once.
    public let fanOut: Bool

    init(storage: Storage, fanOut: Bool) {
        self.storage = storage
        self.fanOut = fanOut
    }

    init(rotating candidates: [Candidate], from start: Int) {
        self.init(storage: .rotation(candidates: candidates, start: start), fanOut: false)
    }

    init(explicit candidates: [Candidate], fanOut: Bool) {
        self.init(storage: .explicit(candidates), fanOut: fanOut)
    }

    /// Always 0: position 0 is the policy's pick.
    public var startIndex: Int { 0 }
    /// The number of candidates to try; zero when no node can serve.
    public var endIndex: Int {
        switch self.storage {
        case .rotation(let candidates, _): candidates.count
        case .explicit(let candidates): candidates.count
        }
    }

    /// The candidate to try at `position` (0 first); computed for rotations, so reading it never allocates.
    public subscript(position: Int) -> Candidate {
        switch self.storage {
        case .rotation(let candidates, let start): candidates[(start + position) % candidates.count]
        case .explicit(let candidates): candidates[position]
        }
    }
}

/// The available nodes in every order a policy can want, sorted once when the nodes change
/// (heads and peer counts only move at heartbeats), so picking never sorts or allocates.
package struct CandidateSet: Sendable {
    /// Index order.
    package let byIndex: [Candidate]
    let byIndexDescending: [Candidate]
    let byHead: [Candidate]
    let byMessagePeers: [Candidate]
    let byBlockPeers: [Candidate]

    /// Sorts `candidates` into every order the policies use; ties keep index order, so picks are stable between calls.
    package init(_ candidates: [Candidate]) {
        let ordered = candidates.sorted { $0.index < $1.index }
        self.byIndex = ordered
        self.byIndexDescending = ordered.reversed()
        // Highest first; ties keep index order, so the choice is stable between calls.
        self.byHead = ordered.sorted { $0.head != $1.head ? $0.head > $1.head : $0.index < $1.index }
        self.byMessagePeers = ordered.sorted {
            $0.messagePeers != $1.messagePeers ? $0.messagePeers > $1.messagePeers : $0.index < $1.index
        }
        self.byBlockPeers = ordered.sorted { $0.blockPeers != $1.blockPeers ? $0.blockPeers > $1.blockPeers : $0.index < $1.index }
    }

    /// True when no node can serve: calls then wait or, with nohang, fail.
    package var isEmpty: Bool { self.byIndex.isEmpty }
    /// How many nodes can serve, the modulus of the round-robin policies.
    package var count: Int { self.byIndex.count }
}

/// Turns a routing policy into the order in which to try the available nodes. Pure and lock-free: routing calls it
/// under the pool's lock, tests call it directly.
package enum NodePicker {
    /// Orders the candidates by `policy`.
    ///
    /// - Parameters:
    ///   - candidates: the nodes serving now, in index order, with what the policies read.
    ///   - policy: the API's policy in force (its override's, the route's or the pool's default).
    ///   - callID: the API's call counter (OneByIdRound).
    ///   - seed: PrimarySeed (OneBySeedRound).
    package static func order(_ candidates: CandidateSet, policy: Policy, callID: UInt64, seed: UInt64) -> PickOrder {
        guard !candidates.isEmpty else { return PickOrder(explicit: [], fanOut: false) }
        let count = UInt64(candidates.count)
        switch policy {
        case .oneByIndexAsc: return PickOrder(rotating: candidates.byIndex, from: 0)
        case .oneByIndexDesc: return PickOrder(rotating: candidates.byIndexDescending, from: 0)
        case .oneByIdRound: return PickOrder(rotating: candidates.byIndex, from: Int(callID % count))
        case .oneBySeedRound: return PickOrder(rotating: candidates.byIndex, from: Int(seed % count))
        case .oneByChainHeadDesc: return PickOrder(rotating: candidates.byHead, from: 0)
        case .oneByMessagePeersDesc: return PickOrder(rotating: candidates.byMessagePeers, from: 0)
        case .oneByBlockPeersDesc: return PickOrder(rotating: candidates.byBlockPeers, from: 0)
        case .allWithFirstSucceed: return PickOrder(storage: .rotation(candidates: candidates.byIndex, start: 0), fanOut: true)
        }
    }
}
