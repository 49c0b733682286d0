// Mpool rules of a simulated daemon: nonces from its own view, Lotus's push errors.

import LotusWire

extension SimWorld {
    /// Pending messages as `daemon` sees them: its own local ones, the network's, and those
    /// included above its head (it has not synced them yet). Sender ID → nonce → message.
    static func pendingView(_ state: State, daemon index: Int) -> [String: [UInt64: SimSignedMessage]] {
        let view = state.daemons[index].head
        var pending = state.chain.published
        for (sender, messages) in state.daemons[index].local {
            for (nonce, entry) in messages { pending[sender, default: [:]][nonce] = entry.message }
        }
        if view < state.chain.height {
            for height in (view + 1)...state.chain.height {
                for message in state.chain.tipset(at: height)?.messages ?? [] {
                    if let sender = state.chain.resolve(message.message.from, at: state.chain.height) {
                        pending[sender, default: [:]][message.message.nonce] = message
                    }
                }
            }
        }
        return pending
    }

    /// Whether `daemon` has seen the message (in its mpool or on its chain): Lotus fails
    /// lookups of messages it never saw.
    static func knows(_ state: State, _ cid: String, daemon index: Int) -> Bool {
        if let inclusion = state.chain.inclusion(of: cid), inclusion.height <= state.chain.height { return true }
        return self.pendingView(state, daemon: index).values.contains { messages in
            messages.values.contains { $0.cid == cid || $0.message.cid == cid }
        }
    }

    func knows(_ cid: String, daemon index: Int) -> Bool {
        self.state.withLock { Self.knows($0, cid, daemon: index) }
    }

    /// The next nonce for `senderID` on `daemon`: on-chain nonce in its view, then its pending run.
    static func nextNonce(_ state: State, daemon index: Int, senderID: String) -> UInt64 {
        var next = state.chain.state(of: senderID, at: state.headTipSet(daemon: index))?.nonce ?? 0
        let pending = self.pendingView(state, daemon: index)[senderID] ?? [:]
        while pending[next] != nil { next += 1 }
        return next
    }

    func nonce(of address: String, daemon index: Int) throws(RPCError) -> UInt64 {
        try self.state.withLock { state throws(RPCError) in
            let view = state.daemons[index].head
            guard let sender = state.chain.resolve(address, at: view) else { throw LotusErrorText.actorNotFound(address) }
            return Self.nextNonce(state, daemon: index, senderID: sender)
        }
    }

    func pending(daemon index: Int) -> [SimSignedMessage] {
        self.state.withLock { state in
            Self.pendingView(state, daemon: index).sorted { $0.key < $1.key }.flatMap { $0.value.sorted { $0.key < $1.key }.map(\.value) }
        }
    }

    /// `MpoolPush`: checks the signature and nonce against this daemon's view, then adds it.
    ///
    /// - Throws: Lotus's errors: nonce too low, nonce gap, already in mpool, replace-by-fee too low.
    func push(_ message: SimSignedMessage, daemon index: Int) throws(RPCError) -> String {
        try self.state.withLock { state throws(RPCError) in
            try Self.push(&state, message, daemon: index, propagationDelay: self.propagationDelay)
        }
    }

    static func push(_ state: inout State, _ message: SimSignedMessage, daemon index: Int, propagationDelay: Duration) throws(RPCError)
        -> String
    {
        let from = message.message.from
        let view = state.daemons[index].head
        guard let sender = state.chain.resolve(from, at: view) else { throw LotusErrorText.actorNotFound(from) }
        guard message.signature == SimIdentifiers.signature(from: from, messageCID: message.message.cid) else {
            throw RPCError(code: 1, message: "failed to validate signature: signature did not match")
        }
        let onChain = state.chain.state(of: sender, at: state.headTipSet(daemon: index))?.nonce ?? 0
        let nonce = message.message.nonce
        guard nonce >= onChain else { throw LotusErrorText.nonceTooLow(expected: onChain, got: nonce) }
        if let existing = self.pendingView(state, daemon: index)[sender]?[nonce] {
            if existing.cid == message.cid { throw LotusErrorText.alreadyInMpool(from: from, nonce: nonce) }
            // Replace-by-fee needs a 25% higher premium, as Lotus's mpool does.
            let minimum = existing.replacementPremium
            guard message.message.gasPremium >= minimum else {
                throw LotusErrorText.replaceByFeeTooLow(
                    from: from, nonce: nonce, minPremium: String(minimum), current: String(message.message.gasPremium))
            }
        } else {
            let next = self.nextNonce(state, daemon: index, senderID: sender)
            guard nonce <= next else { throw LotusErrorText.nonceGap(nonce: nonce, next: next) }
        }
        state.daemons[index].local[sender, default: [:]][nonce] = (message, .now)
        if state.daemons[index].running && state.daemons[index].messagePeers > 0 && propagationDelay == .zero {
            Self.publish(&state, message, senderID: sender, from: index)
            state.daemons[index].local[sender]?[nonce] = nil
        }
        for (_, subscription) in state.daemons[index].subscriptions where subscription.kind == .mpoolSub {
            subscription.send(["Type": 0, "Message": message.json])
        }
        return message.cid
    }

    /// `MpoolPushMessage`: assigns the next nonce from this daemon's view, fills gas, signs with
    /// this daemon's wallet and pushes.
    ///
    /// - Throws: `key not found` when this daemon's wallet lacks the sender's key.
    func pushMessage(_ unsigned: SimMessage, daemon index: Int) throws(RPCError) -> SimSignedMessage {
        try self.state.withLock { state throws(RPCError) in
            let view = state.daemons[index].head
            guard let sender = state.chain.resolve(unsigned.from, at: view) else { throw LotusErrorText.actorNotFound(unsigned.from) }
            let key = state.chain.record(sender)?.key ?? unsigned.from
            guard state.daemons[index].wallet.contains(key) else {
                throw RPCError(code: 1, message: "mpool push: failed to sign message: \(LotusErrorText.keyNotFound(unsigned.from).message)")
            }
            var message = unsigned.withGasDefaults()
            message.nonce = Self.nextNonce(state, daemon: index, senderID: sender)
            let signed = SimSignedMessage(
                message: message, signature: SimIdentifiers.signature(from: message.from, messageCID: message.cid))
            _ = try Self.push(&state, signed, daemon: index, propagationDelay: self.propagationDelay)
            return signed
        }
    }
}
