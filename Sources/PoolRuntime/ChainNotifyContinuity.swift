// What a ChainNotify client has been told, and how to carry it over to a new subscription on
// the same daemon without the client noticing: the new subscription's `current` becomes the
// reverts and applies that lead from the client's last tipset to it.

/// A tipset as a head change names it.
public struct TipSetFacts: Sendable, Equatable {
    /// Its key: the block CIDs, in order.
    public let key: [String]
    /// The tipset's epoch.
    public let height: Int64
    /// Its parents' key.
    public let parents: [String]
    /// The tipset's JSON, as the daemon sent it.
    public let raw: [UInt8]

    /// A tipset's facts as a `ChainNotifyReader` reads them; `raw` is its JSON, kept so that the tipset can be
    /// sent to a client again (a revert after a carry-over).
    public init(key: [String], height: Int64, parents: [String], raw: [UInt8]) {
        self.key = key
        self.height = height
        self.parents = parents
        self.raw = raw
    }
}

/// One entry of a ChainNotify value (`{"Type":…,"Val":tipset}`).
public struct HeadChange: Sendable, Equatable {
    /// The change's `Type` as Lotus spells it: the subscription's first value is `current`, then `apply` and `revert`
    /// follow the head as it moves and reorganises.
    public enum Kind: String, Sendable {
        case current, apply, revert
    }

    /// Whether the tipset is the subscription's starting head, a new head, or a head taken back.
    public let kind: Kind
    /// The tipset the change is about (`Val`).
    public let tipset: TipSetFacts

    /// A change of `kind` to `tipset`.
    public init(_ kind: Kind, _ tipset: TipSetFacts) {
        self.kind = kind
        self.tipset = tipset
    }
}

/// Reads and writes ChainNotify values; PoolServer implements it with its JSON reader (the
/// runtime parses no JSON of its own).
public protocol ChainNotifyReader: Sendable {
    /// The head changes of one ChainNotify value, in order; nil when it is not one.
    func changes(in value: [UInt8]) -> [HeadChange]?
    /// One ChainNotify value carrying `changes`.
    func value(of changes: [HeadChange]) -> [UInt8]
    /// A tipset from its JSON (ChainGetTipSet's answer).
    func tipset(_ raw: [UInt8]) -> TipSetFacts?
}

/// The recent chain a ChainNotify client has been told, oldest first: the tipsets of its last
/// `current` and the applies since, less what was reverted.
struct ChainNotifyHistory: Sendable, Equatable {
    /// Enough to bridge the reorganisations Filecoin sees (a few epochs) and the tipsets that
    /// come while a socket is redialled. Each entry keeps its tipset's JSON (several KiB) for
    /// a revert, so a deeper history would cost every open head channel: 8 keep it near 60 KiB.
    static let depth = 8

    private(set) var tipsets: [TipSetFacts] = []

    /// Follows one value sent to the client.
    mutating func record(_ changes: [HeadChange]) {
        for change in changes {
            switch change.kind {
            case .current:
                self.tipsets = [change.tipset]
            case .apply:
                self.tipsets.append(change.tipset)
                if self.tipsets.count > Self.depth { self.tipsets.removeFirst(self.tipsets.count - Self.depth) }
            case .revert:
                if self.tipsets.last?.key == change.tipset.key { self.tipsets.removeLast() }
            }
        }
    }

    /// The changes that take a client from this history to `head`: reverts down to the
    /// common ancestor, then applies up to `head`, fetching `head`'s ancestors by parents' key
    /// (at most `depth` of them). Empty when the client is at `head` already; nil when no
    /// common ancestor is found within reach (the client must then subscribe again).
    func bridge(to head: TipSetFacts, fetch: (_ key: [String]) async -> TipSetFacts?) async -> [HeadChange]? {
        guard let oldest = self.tipsets.first else { return nil }
        let known = Dictionary(self.tipsets.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { $1 })
        var ahead: [TipSetFacts] = []
        var cursor = head
        while known[cursor.key] == nil {
            guard ahead.count < Self.depth, cursor.height > oldest.height, let parent = await fetch(cursor.parents),
                parent.height < cursor.height
            else { return nil }
            ahead.append(cursor)
            cursor = parent
        }
        let ancestor = known[cursor.key]!
        let reverts = self.tipsets[(ancestor + 1)...].reversed().map { HeadChange(.revert, $0) }
        return reverts + ahead.reversed().map { HeadChange(.apply, $0) }
    }
}
