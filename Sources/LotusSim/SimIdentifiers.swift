// Deterministic, real-looking Filecoin identifiers: CIDs, key addresses, peer ids, signatures.

import Crypto
import Foundation

enum SimIdentifiers {
    /// A CIDv1 (dag-cbor, blake2b-256 header) over a hash of `seed`: `bafy2bzace…`, as Lotus prints.
    static func cid(_ seed: String) -> String {
        self.cid(digest: Array(SHA256.hash(data: Array(seed.utf8))))
    }

    /// What every simulated CID starts with: version 1, dag-cbor, a 32-byte blake2b-256 multihash.
    private static let cidPrefix: [UInt8] = [0x01, 0x71, 0xA0, 0xE4, 0x02, 0x20]

    /// The CID (shaped as `cid(_:)` makes them) over a 32-byte `digest`.
    static func cid(digest: [UInt8]) -> String {
        "b" + base32(self.cidPrefix + digest)
    }

    /// The 32-byte digest inside a CID shaped as the simulator makes them; nil for other text.
    static func digest(ofCID cid: String) -> [UInt8]? {
        guard cid.first == "b", let bytes = self.base32Decoded(cid.dropFirst()), bytes.count == self.cidPrefix.count + 32,
            bytes.starts(with: self.cidPrefix)
        else { return nil }
        return Array(bytes.suffix(32))
    }

    /// The genesis block CID of the network named `network`: every daemon of that network
    /// answers ChainGetGenesis with it, and a daemon of another network with another.
    static func genesisCID(network: String) -> String {
        self.cid("genesis:\(network)")
    }

    /// A secp256k1-style key address `f1…` (41 characters, as Lotus's are).
    static func keyAddress(_ seed: String) -> String {
        "f1" + String(base32(Array(SHA256.hash(data: Array(seed.utf8)))).prefix(39))
    }

    /// A libp2p peer id shaped like Lotus's (`12D3KooW…`).
    static func peerID(_ seed: String) -> String {
        let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
        let digest = Array(SHA256.hash(data: Array(seed.utf8)))
        return "12D3KooW" + String((0..<44).map { alphabet[Int(digest[$0 % 32] &+ UInt8($0)) % alphabet.count] })
    }

    /// Base64 of 32 (or `count`) bytes derived from `seed`: tickets, proofs, randomness.
    static func bytes(_ seed: String, count: Int = 32) -> String {
        var out: [UInt8] = []
        var round = 0
        while out.count < count {
            out += SHA256.hash(data: Array("\(seed)#\(round)".utf8))
            round += 1
        }
        return Data(out.prefix(count)).base64EncodedString()
    }

    /// What any wallet holding `from`'s key signs a message CID into (deterministic, so every
    /// daemon verifies every other's signatures).
    static func signature(from: String, messageCID: String) -> String {
        self.bytes("sig:\(from):\(messageCID)", count: 65)
    }

    /// RFC 4648 base32, lower case, no padding (multibase 'b').
    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var out = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int(buffer >> UInt32(bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int(buffer << UInt32(5 - bits)) & 31]) }
        return out
    }

    /// The bytes of RFC 4648 base32 text (lower case, no padding); nil for a character outside it.
    static func base32Decoded(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - UInt8(ascii: "a")
            case UInt8(ascii: "2")...UInt8(ascii: "7"): value = character - UInt8(ascii: "2") + 26
            default: return nil
            }
            buffer = buffer << 5 | UInt32(value)
            bits += 5
            if bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits - 8)))
                bits -= 8
            }
        }
        return out
    }
}
