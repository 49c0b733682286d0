// What calling a method does to a daemon, which decides how the pool may retry it.

/// The side effect of a call.
public enum Effect: String, SpecWord, Hashable {
    /// Idempotent: may be retried on any node after any failure.
    case read
    /// Sends a message from a wallet: nonce-ordered, bound to the sender's primary node, never
    /// re-sent once it may have reached a daemon (unless provably idempotent).
    case push
    /// Any other side effect: never retried after the request may have reached a node.
    case write

    /// What parse errors call this field when a spec's `effect` word is unknown.
    public static let fieldName = "effect"
}
