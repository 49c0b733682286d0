// What one sender pushed and what fpool answered, kept until the chain is checked.

import LotusSim

struct SenderTally: Sendable {
    let id: String
    let key: String
    /// Pushes fpool answered with success.
    var accepted = 0
    /// Accepted pushes not yet seen on chain (their signed CIDs).
    var unconfirmed: [String] = []
    /// The nonces of the newest accepted pushes (for the report: which messages on chain no
    /// success answer gave). Only the latest ones are kept, as the daemons keep only recent
    /// messages: memory stays flat however long the run.
    var acceptedNonces = Set<UInt64>()
    static let keptNonces: UInt64 = 2048
    /// Accepted pushes seen on chain.
    var landed = 0
    /// Errors that leave open whether the daemon took the push (a lost reply, a timeout).
    var ambiguous = 0
    /// CIDs of MpoolPush calls answered with a definite error: none may ever land.
    var refused: [String] = []
    /// Of those, the ones the chain included all the same.
    var refusedButLanded: [String] = []
    /// MpoolPushMessage calls answered with a definite error (their CID is unknown).
    var refusedUnsigned = 0
    /// MpoolPush calls that signed a nonce fpool's MpoolGetNonce gave but that was taken.
    var staleNonces = 0
    /// Errors by kind, for the report.
    var errors: [String: Int] = [:]

    /// Moves the accepted pushes the chain has included from `unconfirmed` to `landed`, and
    /// notes refused pushes it included. Run often: the daemons forget old messages (their
    /// message horizon), and a push lands within a few epochs if it ever does.
    mutating func confirm(_ cluster: SimCluster) {
        let before = self.unconfirmed.count
        self.unconfirmed.removeAll { cluster.inclusionHeight(of: $0) != nil }
        self.landed += before - self.unconfirmed.count
        let landed = self.refused.filter { cluster.inclusionHeight(of: $0) != nil }
        if !landed.isEmpty {
            self.refusedButLanded += landed
            self.refused.removeAll { landed.contains($0) }
        }
    }

    /// Records a push fpool answered with success.
    mutating func accepted(cid: String, nonce: UInt64) {
        self.accepted += 1
        self.unconfirmed.append(cid)
        self.acceptedNonces.insert(nonce)
        if self.acceptedNonces.count > Int(Self.keptNonces) {
            self.acceptedNonces = self.acceptedNonces.filter { $0 + Self.keptNonces / 2 > nonce }
        }
    }

    /// Records a push fpool answered with an error.
    mutating func refusedPush(_ error: any Error, signedCID: String?) {
        let kind = PushErrorKind(error)
        self.errors[kind.label, default: 0] += 1
        if kind.isAmbiguous {
            self.ambiguous += 1
        } else if let signedCID {
            self.refused.append(signedCID)
            if kind.isStaleNonce { self.staleNonces += 1 }
        } else {
            self.refusedUnsigned += 1
        }
    }
}
