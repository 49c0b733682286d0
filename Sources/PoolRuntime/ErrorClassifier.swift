// Classifies daemon errors by Lotus's real codes and texts (LOTUS-WIRE.md §7), never by guess.

/// Reads an error answer's code and message. Errors are wrapped by Lotus, so texts are matched
/// as substrings; codes are used where a release has one (and passed through unchanged).
package enum ErrorClassifier {
    /// The class of a failed reply (a result is not a failure: `other`).
    package static func classify(_ reply: NodeReply) -> ErrorClass {
        switch reply {
        case .error(let code, let message): self.classify(code: code, message: message)
        case .unreachable(let network, _): .network(network)
        case .result: .other
        }
    }

    /// The class of an error answer, from its JSON-RPC `code` and `message` (matched as substrings, since Lotus wraps
    /// errors); anything unrecognised is `other`.
    package static func classify(code: Int64, message: String) -> ErrorClass {
        // v1.35+ ENullRound; older releases only say so in the text.
        if code == 12 || message.contains("null round") { return .nullRound }
        if message.contains("message with nonce already exists") { return .nonce(.alreadyInMpool) }
        if message.contains("message nonce too low") { return .nonce(.tooLow) }
        if message.contains("unfulfilled nonce gap") { return .nonce(.gap) }
        if message.contains("replace by fee has too low GasPremium") { return .nonce(.replaceByFeeTooLow) }
        if message.contains("too many pending messages for actor") { return .nonce(.tooManyPending) }
        // Wallet key missing on this daemon: not lag (checked before "not found" texts).
        if message.contains("key not found for") { return .keyNotFound }
        if message.contains("actor not found") { return .actorNotFound }
        if message.contains("blockstore: block not found") || message.contains("ipld: could not find")
            || message.contains("cannot get tipset from key") || message.contains("looking for tipset with height greater than start point")
        {
            return .blockNotFound
        }
        return .other
    }
}
