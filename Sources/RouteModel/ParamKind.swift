// The parameter kinds the pool cares about; every other Go type is `Other`.

/// What a positional parameter is, as far as routing is concerned.
///
/// The raw values are 4-bit codes packed into `ParamKinds`; keep them below 16.
public enum ParamKind: UInt8, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case other = 0
    case tipSetKey
    case epoch
    case cid
    case address
    case message
    case signedMessage
    case messages
    case signedMessages
    case messagePrototypes
    case ethBlock
    case ethHash
    case ethAddress

    /// The spec spelling (`TipSetKey`, `[]SignedMessage`, …).
    public var specWord: String {
        switch self {
        case .other: "Other"
        case .tipSetKey: "TipSetKey"
        case .epoch: "Epoch"
        case .cid: "Cid"
        case .address: "Address"
        case .message: "Message"
        case .signedMessage: "SignedMessage"
        case .messages: "[]Message"
        case .signedMessages: "[]SignedMessage"
        case .messagePrototypes: "[]MessagePrototype"
        case .ethBlock: "EthBlock"
        case .ethHash: "EthHash"
        case .ethAddress: "EthAddress"
        }
    }

    /// The spec spelling, as `specWord` gives it.
    public var description: String { self.specWord }

    /// Parses a spec spelling.
    ///
    /// - Throws: `VocabularyError` listing every kind.
    public static func parse(_ word: some StringProtocol) throws(VocabularyError) -> ParamKind {
        if let kind = ParamKind.allCases.first(where: { $0.specWord == word }) {
            return kind
        }
        throw VocabularyError(field: "param kind", value: String(word), valid: ParamKind.allCases.map(\.specWord))
    }

    /// The retry tags a parameter of this kind earns its method (PRODUCT.md §2).
    public var retryTags: RetryTags {
        switch self {
        // An eth block selector names a tipset just as an epoch or key does.
        case .tipSetKey, .epoch, .cid, .ethBlock: .blockNotFound
        // An eth address resolves to an actor, so it lags the same way.
        case .address, .ethAddress: .actorNotFound
        default: []
        }
    }
}
