// One sender's pushes against the chain after the run: nonces gapless and unique, every push
// answered with success on chain, none answered with a definite error there.

import LotusSim

struct SenderAudit: Sendable {
    let tally: SenderTally
    let onChain: [SimIncludedMessage]
    /// The sender's nonce in the state after the newest tipset.
    let chainNonce: UInt64

    init(_ tally: SenderTally, cluster: SimCluster) {
        var tally = tally
        tally.confirm(cluster)
        self.tally = tally
        self.onChain = cluster.includedMessages(from: tally.id)
        self.chainNonce = cluster.chainNonce(of: tally.id) ?? 0
    }

    /// Nonces missing below the highest one on chain.
    var gaps: Int {
        let nonces = Set(self.onChain.map(\.nonce))
        guard let highest = nonces.max() else { return 0 }
        return Int(highest + 1) - nonces.count
    }

    /// Messages on chain sharing a nonce with another.
    var duplicates: Int { self.onChain.count - Set(self.onChain.map(\.nonce)).count }

    /// Whether the actor's nonce counts exactly the messages on chain.
    var nonceMatches: Bool { self.chainNonce == UInt64(self.onChain.count) }

    /// Pushes answered with success that the chain never included.
    var acceptedNotLanded: Int { self.tally.unconfirmed.count }

    /// Messages on chain at a nonce no success answer gave.
    var unexplained: [SimIncludedMessage] { self.onChain.filter { !self.tally.acceptedNonces.contains($0.nonce) } }

    /// Messages on chain that no success answer accounts for, beyond the pushes answered with
    /// an ambiguous error (a lost reply may have been accepted).
    var landedWithoutSuccess: Int { max(0, self.unexplained.count - self.tally.ambiguous) }

    /// What is wrong with this sender's pushes, for the report (empty when nothing is).
    var problems: [String] {
        var problems: [String] = []
        if self.gaps > 0 || self.duplicates > 0 || !self.nonceMatches {
            problems.append("\(self.tally.id): nonces on chain \(self.onChain.map(\.nonce)), actor nonce \(self.chainNonce)")
        }
        for cid in self.tally.unconfirmed { problems.append("\(self.tally.id): accepted \(cid), never on chain") }
        if self.landedWithoutSuccess > 0 || self.refusedButLanded > 0 {
            let messages = self.unexplained.map { "nonce \($0.nonce) at height \($0.height) (\($0.cid))" }
            problems.append(
                "\(self.tally.id): on chain without a success answer: \(messages.joined(separator: ", ")); \(self.tally.ambiguous) ambiguous answers, \(self.refusedButLanded) refused pushes on chain"
            )
        }
        return problems
    }

    /// MpoolPush calls answered with a definite error whose message is on chain anyway.
    var refusedButLanded: Int {
        let cids = Set(self.onChain.map(\.cid))
        return self.tally.refused.filter { cids.contains($0) }.count
    }
}
