// One sender's pushes against the chain after the run: nonces gapless and unique, every push
// answered with success on chain, none answered with a definite error there.

import LotusSim

struct SenderAudit: Sendable {
    let tally: SenderTally
    /// The sender's messages the daemons still hold (those of the last `messageHorizon` epochs).
    let recent: [SimIncludedMessage]
    /// The sender's nonce in the state after the newest tipset: how many of its messages the
    /// chain included in all.
    let chainNonce: UInt64

    init(_ tally: SenderTally, cluster: SimCluster) {
        var tally = tally
        tally.confirm(cluster)
        self.tally = tally
        self.recent = cluster.includedMessages(from: tally.id)
        self.chainNonce = cluster.chainNonce(of: tally.id) ?? 0
    }

    /// Nonces missing among the recent messages, which must run up to the actor's nonce.
    var gaps: Int {
        let nonces = Set(self.recent.map(\.nonce))
        guard let lowest = nonces.min() else { return 0 }
        return max(0, Int(self.chainNonce) - Int(lowest) - nonces.count)
    }

    /// Recent messages sharing a nonce with another.
    var duplicates: Int { self.recent.count - Set(self.recent.map(\.nonce)).count }

    /// Whether the newest message's nonce is the one just below the actor's nonce.
    var nonceMatches: Bool { self.recent.map(\.nonce).max().map { $0 + 1 == self.chainNonce } ?? true }

    /// Pushes answered with success that the chain never included.
    var acceptedNotLanded: Int { self.tally.unconfirmed.count }

    /// Messages on chain that no success answer accounts for, beyond the pushes answered with
    /// an ambiguous error (a lost reply may have been accepted).
    var landedWithoutSuccess: Int { max(0, Int(self.chainNonce) - self.tally.landed - self.tally.ambiguous) }

    /// MpoolPush calls answered with a definite error whose message is on chain anyway.
    var refusedButLanded: Int { self.tally.refusedButLanded.count }

    /// Recent messages at a nonce no success answer gave (for the report).
    var unexplained: [SimIncludedMessage] { self.recent.filter { !self.tally.acceptedNonces.contains($0.nonce) } }

    /// What is wrong with this sender's pushes, for the report (empty when nothing is).
    var problems: [String] {
        var problems: [String] = []
        if self.gaps > 0 || self.duplicates > 0 || !self.nonceMatches {
            problems.append("\(self.tally.id): recent nonces on chain \(self.recent.map(\.nonce)), actor nonce \(self.chainNonce)")
        }
        for cid in self.tally.unconfirmed { problems.append("\(self.tally.id): accepted \(cid), never on chain") }
        for cid in self.tally.refusedButLanded { problems.append("\(self.tally.id): refused \(cid), on chain all the same") }
        if self.landedWithoutSuccess > 0 {
            let messages = self.unexplained.map { "nonce \($0.nonce) at height \($0.height) (\($0.cid))" }
            problems.append(
                "\(self.tally.id): \(self.chainNonce) messages on chain, \(self.tally.landed) answered with success, \(self.tally.ambiguous) ambiguous; recent ones without a success answer: \(messages.joined(separator: ", "))"
            )
        }
        return problems
    }
}
