// What kind of failure a daemon's answer (or its absence) is, for the retry rules.

/// The classes of failure the pool treats differently (PRODUCT.md §3.6, LOTUS-WIRE.md §7).
public enum ErrorClass: Sendable, Hashable {
    /// No usable answer: connection refused/reset, websocket closed, timeout.
    case network(NetworkFailure)
    /// A tipset or block this node has not synced.
    case blockNotFound
    /// An actor or address this node has not synced.
    case actorNotFound
    /// The epoch had no blocks: a real answer, never retried elsewhere.
    case nullRound
    /// A nonce verdict from the mpool.
    case nonce(NonceVerdict)
    /// This daemon's wallet lacks the key: retrying elsewhere would switch wallets.
    case keyNotFound
    /// Anything else: the daemon's real answer.
    case other

    /// Whether the request provably never reached the daemon.
    public enum NetworkFailure: Sendable, Hashable {
        /// Refused, or failed before the request was written: safe to send elsewhere.
        case notSent
        /// Reset or timed out after the request was written: it may have been executed.
        case maybeSent
        /// The daemon closed the connection while the request waited for its answer: it may
        /// have been executed, and the request itself may be what the daemon could not take.
        case dropped
    }

    /// Which mpool nonce rule refused a message; only `alreadyInMpool` counts as success (for pushes), every other
    /// verdict is the daemon's answer, never retried elsewhere.
    public enum NonceVerdict: Sendable, Hashable {
        /// The identical message is already in the mpool: for the pool, the push succeeded.
        case alreadyInMpool
        case tooLow
        case gap
        case replaceByFeeTooLow
        case tooManyPending
    }
}
