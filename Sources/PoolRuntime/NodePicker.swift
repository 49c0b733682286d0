// The eight routing policies (PRODUCT.md §4) as an order over the available nodes.

import RouteModel

/// A node the picker may choose: its pool index and what the last heartbeat measured.
public struct Candidate: Sendable, Hashable {
    public let index: Int
    public let head: Int64
    public let messagePeers: UInt64
    public let blockPeers: UInt64

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

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch self.storage {
        case .rotation(let candidates, _): candidates.count
        case .explicit(let candidates): candidates.count
        }
    }

    public subscript(position: Int) -> Candidate {
        switch self.storage {
        case .rotation(let candidates, let start): candidates[(start + position) % candidates.count]
        case .explicit(let candidates): candidates[position]
        }
    }
}

public enum NodePicker {
    /// Orders `candidates` (available nodes, in index order) by `policy`.
    ///
    /// - Parameters:
    ///   - callID: the API's call counter (OneByIdRound).
    ///   - seed: PrimarySeed, or the sender's seed for bound calls (OneBySeedRound).
    public static func order(_ candidates: [Candidate], policy: Policy, callID: UInt64, seed: UInt64) -> PickOrder {
        guard !candidates.isEmpty else { return PickOrder(storage: .explicit([]), fanOut: false) }
        let count = UInt64(candidates.count)
        switch policy {
        case .oneByIndexAsc:
            return PickOrder(storage: .rotation(candidates: candidates, start: 0), fanOut: false)
        case .oneByIndexDesc:
            return PickOrder(storage: .explicit(candidates.reversed()), fanOut: false)
        case .oneByIdRound:
            return PickOrder(storage: .rotation(candidates: candidates, start: Int(callID % count)), fanOut: false)
        case .oneBySeedRound:
            return PickOrder(storage: .rotation(candidates: candidates, start: Int(seed % count)), fanOut: false)
        case .oneByChainHeadDesc:
            return PickOrder(storage: .explicit(self.descending(candidates, by: \.head)), fanOut: false)
        case .oneByMessagePeersDesc:
            return PickOrder(storage: .explicit(self.descending(candidates, by: \.messagePeers)), fanOut: false)
        case .oneByBlockPeersDesc:
            return PickOrder(storage: .explicit(self.descending(candidates, by: \.blockPeers)), fanOut: false)
        case .allWithFirstSucceed:
            return PickOrder(storage: .rotation(candidates: candidates, start: 0), fanOut: true)
        }
    }

    /// Highest first; ties keep index order, so the choice is stable between calls.
    private static func descending<Key: Comparable>(_ candidates: [Candidate], by key: KeyPath<Candidate, Key>) -> [Candidate] {
        candidates.enumerated().sorted { left, right in
            left.element[keyPath: key] != right.element[keyPath: key]
                ? left.element[keyPath: key] > right.element[keyPath: key] : left.offset < right.offset
        }.map(\.element)
    }
}
