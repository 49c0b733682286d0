// Signed messages the pool saw accepted, per sender: what a failover must re-push first.

/// The newest accepted signed messages of each sender (by actor ID), keyed by nonce. Bounded:
/// a failover needs only the messages not yet on chain, which are the newest few.
struct PushLedger: Sendable {
    static let window = 128

    private var bySender: [UInt64: [UInt64: SignedMessageFacts]] = [:]

    mutating func record(_ message: SignedMessageFacts, sender: UInt64) {
        self.bySender[sender, default: [:]][message.nonce] = message
        if let messages = self.bySender[sender], messages.count > Self.window {
            let keep = messages.keys.sorted().suffix(Self.window)
            self.bySender[sender] = messages.filter { keep.contains($0.key) }
        }
    }

    /// The sender's remembered messages, lowest nonce first.
    func messages(of sender: UInt64) -> [SignedMessageFacts] {
        (self.bySender[sender] ?? [:]).values.sorted { $0.nonce < $1.nonce }
    }
}
