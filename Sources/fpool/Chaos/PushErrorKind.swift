// What an error answer to a push says about the push: refused for sure, or perhaps taken.

/// What a push error says about the push.
struct PushErrorKind {
    let label: String
    /// The push may or may not have reached a daemon's mpool.
    let isAmbiguous: Bool
    /// The nonce the client signed was already taken (a definite refusal).
    let isStaleNonce: Bool

    init(_ error: any Error) {
        let text = "\(error)"
        func has(_ part: String) -> Bool { text.contains(part) }
        switch true {
        case has("may have accepted"):
            (self.label, self.isAmbiguous, self.isStaleNonce) = ("reply lost, may have been accepted", true, false)
        case error is ChaosCallTimeout, has("timeout"): (self.label, self.isAmbiguous, self.isStaleNonce) = ("timeout", true, false)
        case has("websocket connection closed"), has("connection reset"), has("Connection refused"):
            (self.label, self.isAmbiguous, self.isStaleNonce) = ("client connection lost", true, false)
        case has("nonce too low"): (self.label, self.isAmbiguous, self.isStaleNonce) = ("nonce too low", false, true)
        case has("already in mpool"): (self.label, self.isAmbiguous, self.isStaleNonce) = ("nonce already in mpool", false, true)
        case has("nonce gap"): (self.label, self.isAmbiguous, self.isStaleNonce) = ("nonce gap", false, false)
        case has("nonce-safe failover"): (self.label, self.isAmbiguous, self.isStaleNonce) = ("nonce-safe failover refused", false, false)
        case has("no node available"): (self.label, self.isAmbiguous, self.isStaleNonce) = ("no node available", false, false)
        default: (self.label, self.isAmbiguous, self.isStaleNonce) = ("other: " + String(text.prefix(80)), false, false)
        }
    }
}
