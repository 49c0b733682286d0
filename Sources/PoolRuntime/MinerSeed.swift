// The seed a client's token may carry (`auth create-token --seed=f01000`): which miner the
// client is, so that miners sharing one pool each prefer a primary daemon of their own.

/// A miner's seed: an actor ID address (`f01000`, `t01000`) or a plain number, kept as written for the token.
public struct MinerSeed: Sendable, Hashable, CustomStringConvertible {
    /// The number rendezvous hashing ranks nodes by: the actor ID, or the number given.
    public let value: UInt64
    /// The seed as the operator wrote it; it goes into the token's claim.
    public let text: String

    /// Reads an ID address or a decimal number; nil for anything else (a key address names no miner).
    public init?(_ text: String) {
        let digits = text.hasPrefix("f0") || text.hasPrefix("t0") ? text.dropFirst(2) : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = UInt64(digits)
        else { return nil }
        self.value = value
        self.text = text
    }

    /// As written.
    public var description: String { self.text }
}
