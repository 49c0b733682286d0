// Signed messages the pool saw accepted, per sender: what a failover must re-push first.

/// The newest accepted signed messages of each sender (by actor ID), keyed by nonce. Bounded:
/// a failover needs only the messages not yet on chain, which are the newest few.
struct PushLedger: Sendable {
    static let window = 128

    private var bySender: [UInt64: [UInt64: SignedMessageFacts]] = [:]
    /// The node that last accepted each sender's push: a push anywhere else must first find
    /// that node's accepted nonces there (failover, failback, a rebinding).
    private var lastNode: [UInt64: Int] = [:]

    mutating func record(_ message: SignedMessageFacts?, sender: UInt64, node: Int) {
        self.lastNode[sender] = node
        guard let message else { return }
        self.bySender[sender, default: [:]][message.nonce] = message
        if let messages = self.bySender[sender], messages.count > Self.window, let oldest = messages.keys.min() {
            self.bySender[sender]?[oldest] = nil
        }
    }

    func lastNode(of sender: UInt64) -> Int? { self.lastNode[sender] }

    /// Every sender with a push the pool saw accepted.
    var senders: Dictionary<UInt64, Int>.Keys { self.lastNode.keys }

    /// The sender's remembered messages, lowest nonce first.
    func messages(of sender: UInt64) -> [SignedMessageFacts] {
        (self.bySender[sender] ?? [:]).values.sorted { $0.nonce < $1.nonce }
    }
}
