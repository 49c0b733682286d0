// The eight routing policies of PRODUCT.md §4, with the seed's aliases.

/// How the pool picks the node (or nodes) for a call.
public enum Policy: String, SpecWord, Hashable {
    /// The first available node in index order, then the next on failure.
    case oneByIndexAsc = "OneByIndexAsc"
    /// The last available node, then the previous.
    case oneByIndexDesc = "OneByIndexDesc"
    /// Node = the API's call id mod available nodes; round robin on failure.
    case oneByIdRound = "OneByIdRound"
    /// The node with the highest ChainHead, then the next highest.
    case oneByChainHeadDesc = "OneByChainHeadDesc"
    /// The node with most message-publishing peers.
    case oneByMessagePeersDesc = "OneByMessagePeersDesc"
    /// The node with most block-publishing peers.
    case oneByBlockPeersDesc = "OneByBlockPeersDesc"
    /// Node = PrimarySeed mod available nodes; round robin on failure. The global default.
    case oneBySeedRound = "OneBySeedRound"
    /// All available nodes at once; the first success wins, the others are cancelled.
    case allWithFirstSucceed = "AllWithFirstSucceed"

    /// What parse errors call this field when a spec, setting or flag names an unknown policy.
    public static let fieldName = "policy"

    /// Names the seed's own sample output uses, accepted on input only.
    public static let aliases: [String: Policy] = [
        "FirstOk": .allWithFirstSucceed,
        "RoundRobin": .oneByIdRound,
    ]

    /// Parses a canonical name or an alias (case-sensitive).
    ///
    /// - Throws: `VocabularyError` listing the canonical names.
    public static func parseAllowingAliases(_ word: some StringProtocol) throws(VocabularyError) -> Policy {
        if let alias = Policy.aliases[String(word)] {
            return alias
        }
        return try Policy.parse(word)
    }
}

/// A route's policy: a fixed one, or whatever the pool's DefaultPolicy is at call time.
public enum PolicyChoice: Sendable, Hashable, CustomStringConvertible {
    case poolDefault
    case fixed(Policy)

    /// The spec word for the pool default.
    public static let defaultWord = "default"

    /// Parses `default` or a policy name (aliases allowed).
    public init(specWord: some StringProtocol) throws(VocabularyError) {
        if specWord == PolicyChoice.defaultWord {
            self = .poolDefault
            return
        }
        do {
            self = .fixed(try Policy.parseAllowingAliases(specWord))
        } catch {
            throw VocabularyError(
                field: error.field, value: error.value, valid: [PolicyChoice.defaultWord] + error.valid)
        }
    }

    /// The policy in force when the pool's DefaultPolicy is `poolDefault`.
    public func resolved(poolDefault: Policy) -> Policy {
        switch self {
        case .poolDefault: poolDefault
        case .fixed(let policy): policy
        }
    }

    /// The spec word: `default` for the pool default, otherwise the policy's canonical name (never an alias).
    public var description: String {
        switch self {
        case .poolDefault: PolicyChoice.defaultWord
        case .fixed(let policy): policy.rawValue
        }
    }
}
