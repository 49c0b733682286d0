// What a load test reads of the network after a run: each sender's messages on the chain and
// the messages that never made it there.

/// A message the chain included.
public struct SimIncludedMessage: Sendable, Equatable {
    /// The message's nonce, the sender's sequence number at which the chain included it.
    public let nonce: UInt64
    /// The signed message's CID (what MpoolPush answers and MpoolPushMessage's result carries).
    public let cid: String
    /// The height of the tipset that included the message.
    public let height: Int64
}

extension SimCluster {
    /// Every message from `address` (ID or key address) on the network's chain, in chain order.
    public func includedMessages(from address: String) -> [SimIncludedMessage] {
        self.world.state.withLock { state in
            let chain = state.chain
            guard let sender = chain.resolve(address, at: chain.height) else { return [] }
            var found: [SimIncludedMessage] = []
            for tipset in chain.tipsets {
                guard let tipset else { continue }
                for message in tipset.messages where chain.resolve(message.message.from, at: chain.height) == sender {
                    found.append(SimIncludedMessage(nonce: message.message.nonce, cid: message.cid, height: tipset.height))
                }
            }
            return found
        }
    }

    /// The nonce of `address` in the state after the network's newest tipset.
    public func chainNonce(of address: String) -> UInt64? {
        self.world.state.withLock { state in
            let chain = state.chain
            return chain.resolve(address, at: chain.height).flatMap { chain.state(of: $0, at: chain.height)?.nonce }
        }
    }

    /// Messages some daemon or the network holds, still valid (their nonce not yet used on
    /// chain) and not included: a sender's nonce gap leaves its later messages here for ever.
    public var waitingMessages: Int {
        self.world.state.withLock { state in
            let chain = state.chain
            var waiting = Set<String>()
            func note(_ message: SimSignedMessage, sender: String) {
                let next = chain.state(of: sender, at: chain.height)?.nonce ?? 0
                if message.message.nonce >= next && chain.inclusion(of: message.cid) == nil { waiting.insert(message.cid) }
            }
            for (sender, messages) in chain.published { for message in messages.values { note(message, sender: sender) } }
            for daemon in state.daemons {
                for (sender, messages) in daemon.local { for entry in messages.values { note(entry.message, sender: sender) } }
            }
            return waiting.count
        }
    }
}
