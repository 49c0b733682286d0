// The content-addressed objects ChainReadObj serves, sized as Lotus's are: block headers, and the
// actor states StateGetActor names as Heads. Their bytes are made from their CIDs when read, so
// the same CID always gives the same bytes and the simulator stores none of them.

import Crypto
import Foundation

enum SimObjects {
    /// What an object is, which sets its size.
    enum Kind: UInt8, Sendable, CaseIterable {
        /// A block header: 0.5–1 KiB of CBOR in Lotus (ticket, election proof, beacon entries,
        /// WinningPoSt proof, BLS aggregate and signature).
        case blockHeader = 0
        /// An account actor's state: a few hundred bytes.
        case accountState = 1
        /// A miner actor's state: a few KiB to tens of KiB (info, deadlines, vesting table).
        case minerState = 2

        /// The actor states, whose CIDs carry their kind.
        static let states: [Kind] = [.accountState, .minerState]
    }

    /// The CID of an actor state made from `seed`. Its digest ends in a tag naming `kind`, so that
    /// ChainReadObj recognises every state the simulator ever named without remembering one; a CID
    /// made any other way carries a valid tag with odds of one in four billion.
    static func stateCID(seed: String, kind: Kind) -> String {
        let hash = Array(SHA256.hash(data: Array(seed.utf8)))
        return SimIdentifiers.cid(digest: Array(hash.prefix(28)) + self.tag(hash.prefix(28), kind))
    }

    /// The kind of actor state `cid` names; nil for a CID `stateCID` did not make.
    static func stateKind(of cid: String) -> Kind? {
        guard let digest = SimIdentifiers.digest(ofCID: cid) else { return nil }
        return Kind.states.first { self.tag(digest.prefix(28), $0).elementsEqual(digest.suffix(4)) }
    }

    /// The Head StateGetActor reports for an actor: an account's state changes with its nonce,
    /// a miner's with every block it wins.
    static func head(id: String, code: String, state: SimActorState) -> String {
        if code == SimFixtures.minerCode { return self.stateCID(seed: "head:\(id):\(state.rewards)", kind: .minerState) }
        return self.stateCID(seed: "head:\(id):\(state.nonce)", kind: .accountState)
    }

    /// How many bytes the object `cid` of `kind` has, chosen by the CID.
    static func size(of cid: String, kind: Kind) -> Int {
        var random = SimRandom(seed: SHA256.hash(data: Array("size:\(cid)".utf8)))
        switch kind {
        case .blockHeader:
            return random.next(in: 512...1023)
        case .accountState:
            return random.next(in: 200...599)
        case .minerState:
            // Spread evenly over the doublings 2–4, 4–8, 8–16, 16–32 and 32–48 KiB, as small
            // and large miners are: an even spread over 2–48 KiB would be mostly large.
            let octave = random.next(in: 0...4)
            let lower = 2048 << octave
            return random.next(in: lower...min(lower * 2, 48 * 1024) - 1)
        }
    }

    /// The object's bytes, base64 as Lotus's JSON sends `[]byte`.
    static func bytes(of cid: String, kind: Kind) -> String {
        let count = self.size(of: cid, kind: kind)
        var random = SimRandom(seed: SHA256.hash(data: Array("object:\(cid)".utf8)))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            let word = random.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return Data(bytes.prefix(count)).base64EncodedString()
    }

    private static func tag(_ prefix: ArraySlice<UInt8>, _ kind: Kind) -> [UInt8] {
        Array(SHA256.hash(data: Array("fpool-sim-state:\(kind.rawValue):".utf8) + prefix).prefix(4))
    }
}
