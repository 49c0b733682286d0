// Which lag-class errors make a call worth retrying on another node.

/// Derived from a method's parameter kinds: a node that has not yet synced a tipset or an
/// actor answers "not found" where a node that has would answer for real.
public struct RetryTags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// One bit per tag; only the bits of the static tags below are meaningful.
    public let rawValue: UInt8

    /// Tags from their bits, as `OptionSet` requires; prefer the named static tags.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Retry on the next node after a tipset/block-not-found error (TipSetKey, Epoch, Cid params).
    public static let blockNotFound = RetryTags(rawValue: 1 << 0)
    /// Retry on the next node after an actor/key-not-found error (Address params).
    public static let actorNotFound = RetryTags(rawValue: 1 << 1)

    /// The tag names joined by commas (`blockNotFound,actorNotFound`), or `-` when there are none.
    public var description: String {
        var words: [String] = []
        if self.contains(.blockNotFound) { words.append("blockNotFound") }
        if self.contains(.actorNotFound) { words.append("actorNotFound") }
        return words.isEmpty ? "-" : words.joined(separator: ",")
    }
}
