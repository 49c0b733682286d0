// The error texts and codes Lotus daemons really return (LOTUS-WIRE.md §7), for the simulator
// to send and the pool to recognise.

/// Lotus's own error answers, word for word: the simulator sends them, and the pool's `ErrorClassifier`
/// recognises the same words as substrings (Lotus wraps errors, so never the whole text).
public enum LotusErrorText {
    /// Go's `TipSetKey.String()`: `{bafy…,bafy…}`.
    public static func tipSetKey(_ cids: [String]) -> String { "{" + cids.joined(separator: ",") + "}" }

    /// A tipset this node has not synced (v1.36 blockstore wording).
    public static func tipSetNotFound(_ cids: [String]) -> RPCError {
        let missing = cids.first ?? ""
        return RPCError(
            code: 1,
            message: "loading tipset \(tipSetKey(cids)): get block \(missing): ipld: could not find \(missing)")
    }

    /// A block this node does not have.
    public static func blockNotFound(_ cid: String) -> RPCError {
        RPCError(code: 1, message: "ipld: could not find \(cid)")
    }

    /// An epoch above this node's head.
    public static let heightAboveHead = RPCError(code: 1, message: "looking for tipset with height greater than start point")

    /// v1.35+ registers ErrActorNotFound as code 11.
    public static let actorNotFoundCode: Int64 = 11

    /// An address with no actor on this node's chain (not yet created, or not yet synced here), code 11.
    public static func actorNotFound(_ address: String) -> RPCError {
        RPCError(code: actorNotFoundCode, message: "resolution lookup failed (\(address)): resolve address \(address): actor not found")
    }

    /// A pushed message whose nonce is below the sender's next on-chain nonce (`expected`): already used.
    public static func nonceTooLow(expected: UInt64, got: UInt64) -> RPCError {
        RPCError(code: 1, message: "minimum expected nonce is \(expected), got \(got): message nonce too low")
    }

    /// A pushed message whose nonce leaves a gap after the sender's next expected nonce (`next`).
    public static func nonceGap(nonce: UInt64, next: UInt64) -> RPCError {
        RPCError(
            code: 1,
            message: "message nonce has too big a gap from expected nonce (Nonce: \(nonce), nextNonce: \(next)): unfulfilled nonce gap")
    }

    /// A push of a message the mpool already holds, same sender and nonce; for a push of the very same
    /// message the pool treats it as success.
    public static func alreadyInMpool(from: String, nonce: UInt64) -> RPCError {
        RPCError(code: 1, message: "message from \(from) with nonce \(nonce) already in mpool: message with nonce already exists")
    }

    /// A different message for a sender and nonce already in the mpool, whose gas premium is too low to
    /// replace it; `minPremium` and `current` are attoFIL amounts as decimal strings.
    public static func replaceByFeeTooLow(from: String, nonce: UInt64, minPremium: String, current: String) -> RPCError {
        RPCError(
            code: 1,
            message:
                "message from \(from) with nonce \(nonce) already in mpool, increase GasPremium to \(minPremium) from \(current) to trigger replace by fee: replace by fee has too low GasPremium"
        )
    }

    /// StateWaitMsg / StateSearchMsg for a message this node has never seen.
    public static func messageNotFound(_ cid: String) -> RPCError {
        RPCError(code: 1, message: "failed to load message: ipld: could not find \(cid)")
    }

    /// A signing call for an address whose key this node's wallet lacks (another node's wallet may have it).
    public static func keyNotFound(_ address: String) -> RPCError {
        RPCError(code: 1, message: "key not found for \(address)")
    }

    /// Lotus's permission check.
    public static func missingPermission(method: String, need: String) -> RPCError {
        RPCError(code: 1, message: "missing permission to invoke '\(method)' (need '\(need)')")
    }
}
