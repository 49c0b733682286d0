// Pushes: remembering accepted messages, nonce-safe failover, and ambiguous replies by CID.

import RouteModel

extension Pool {
    /// Remembers the signed message a successful push carried or returned.
    func recordAccepted(_ call: PoolCall, result: [UInt8], seedID: UInt64?, node: Int) {
        guard call.route.effect == .push, let seedID else { return }
        let message = call.facts.signedMessage ?? self.pushReader?.acceptedMessage(inResult: result)
        self.state.withLock { state in
            // A push a daemon accepted on a chain the pool has since left is not this chain's.
            guard state.table[node].network == state.table.network.identity else { return }
            state.ledger.record(message, sender: seedID, node: node)
        }
    }

    /// Nonce-safe failover (PRODUCT.md §8): before a sender's pushes move to `node` (its primary
    /// is lost, it came back, or the sender was rebound), that node's MpoolGetNonce must pass the last nonce the pool saw accepted. The
    /// remembered messages it lacks are pushed there first; then it waits (bounded by TipsetWait)
    /// for the network to catch it up (`waiting` false: no wait, for a read that must not be
    /// slowed for it). Returns false when it never does.
    /// `until`: the latest time to wait until, shared by the catch-ups of one push so that they
    /// add up to one TipsetWait however many nodes it moves over.
    ///
    /// The whole catch-up, calls to the node included, ends by that time (at least a heartbeat
    /// interval, at most a second, is left for a node asked once the wait is spent): a node that
    /// went silent after the push was planned costs the wait, not its socket's keepalive (a
    /// chaos run saw a push spend 19.6 s in one catch-up).
    func catchUp(sender: String, seedID: UInt64, node index: Int, waiting: Bool = true, until: Duration? = nil) async -> Bool {
        let (tipsetWait, interval) = self.state.withLock { ($0.settings.tipsetWait, $0.settings.heartbeatInterval) }
        let wait = waiting ? Duration.milliseconds(Int(tipsetWait.milliseconds)) : .zero
        let deadline = min(self.clock.now + wait, until ?? .seconds(Int64.max / 2))
        let floor = min(Duration.milliseconds(Int(interval.milliseconds)), .seconds(1))
        let limit = max(deadline - self.clock.now, floor)
        return await self.bounded(limit, timedOut: false) {
            await self.catchUpUnbounded(sender: sender, seedID: seedID, node: index, waiting: waiting, until: deadline)
        }
    }

    private func catchUpUnbounded(sender: String, seedID: UInt64, node index: Int, waiting: Bool, until deadline: Duration) async -> Bool {
        let (messages, connection, name) = self.state.withLock { state in
            (state.ledger.messages(of: seedID), state.table[index].connection, state.table[index].endpoint.name)
        }
        guard let last = messages.last?.nonce else { return true }
        var repushed = 0
        if case .success(let next) = await connection.mpoolNonce(sender) {
            if next > last { return true }
            repush: for message in messages where message.nonce >= next {
                switch await connection.push(signedMessage: message.json) {
                case .result:
                    repushed += 1
                case .error(let code, let text):
                    // Already there, or already on chain: fine. Anything else: a later nonce
                    // would only open a gap, so stop.
                    switch ErrorClassifier.classify(code: code, message: text) {
                    case .nonce(.alreadyInMpool), .nonce(.tooLow): continue repush
                    default: break repush
                    }
                case .unreachable:
                    break repush
                }
            }
        }
        while true {
            let generation = self.nodeGeneration
            if case .success(let next) = await connection.mpoolNonce(sender), next > last {
                // A read moves no pushes: only a push's catch-up is news.
                if waiting { self.observer.senderMoved(sender: sender, to: name, repushed: repushed) }
                return true
            }
            guard self.clock.now < deadline, !Task.isCancelled else { return false }
            await self.waitForNodeChange(until: deadline, after: generation)
        }
    }

    /// Before a sender's nonce is read on a node other than the one that last accepted its
    /// pushes (a failover, a hedge), the remembered messages that node lacks are pushed there,
    /// so that its MpoolGetNonce does not hand out a nonce the pool saw accepted. No wait for
    /// the network: a read is answered even where the node never catches up (a stale nonce,
    /// its push then refused as too low, is better than no answer).
    func prepareNonceRead(_ call: PoolCall, plan: CallPlan, node: Int) async {
        guard plan.route.readsNonces, let seedID = plan.seedID, let sender = call.facts.sender,
            let previous = self.state.withLock({ $0.ledger.lastNode(of: seedID) }), previous != node
        else { return }
        _ = await self.catchUp(sender: sender, seedID: seedID, node: node, waiting: false)
    }

    /// A push whose reply was lost after it was sent. A signed message is looked up by CID on
    /// the other nodes: found means it was accepted; provably nowhere means the caller may send
    /// the very same message again (the same CID cannot spend twice). An unsigned push
    /// (MpoolPushMessage) is never re-sent: the daemon may have signed and sent it. The node
    /// `failedNode` is not asked (nil: every serving node is).
    /// The nodes are asked at once, each within a heartbeat interval: one gone silent costs
    /// that, not its socket's keepalive.
    func resolveAmbiguous(_ call: PoolCall, failedNode: Int? = nil) async -> AmbiguousOutcome {
        guard let message = call.facts.signedMessage else { return .unknown }
        let (others, interval) = self.state.withLock { state in
            (
                state.table.all.candidates.byIndex.filter { $0.index != failedNode }.map { ($0.index, state.table[$0.index].connection) },
                Duration.milliseconds(Int(state.settings.heartbeatInterval.milliseconds))
            )
        }
        return await withTaskGroup(of: Int?.self) { group in
            for (index, connection) in others {
                group.addTask {
                    let known = await self.bounded(interval, timedOut: false) {
                        if case .success(true) = await connection.knowsMessage(cid: message.cid) { return true }
                        return false
                    }
                    return known ? index : nil
                }
            }
            for await found in group {
                guard let index = found else { continue }
                group.cancelAll()
                return .accepted(Array("{\"/\":\"\(message.cid)\"}".utf8), node: index)
            }
            return .nowhere
        }
    }

    enum AmbiguousOutcome {
        /// Another node has it: the push succeeded; this is its result (`{"/":cid}`).
        case accepted([UInt8], node: Int)
        /// No node has it: sending the same signed message again is safe.
        case nowhere
        /// Not a signed message: the outcome cannot be known.
        case unknown
    }
}

extension RouteEntry {
    /// MpoolGetNonce: the answer a client builds its next message on, so it follows the
    /// sender's pushes through nonce-safe failover.
    var readsNonces: Bool { self.name == "MpoolGetNonce" }

    /// A push of messages already signed (MpoolPush, MpoolBatchPush, their Untrusted forms):
    /// the same CIDs whichever daemon takes them, so they may go to every daemon at once.
    public var carriesSignedMessages: Bool {
        self.effect == .push && (self.params.first == .signedMessage || self.params.first == .signedMessages)
    }
}
