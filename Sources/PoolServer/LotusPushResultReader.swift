// Reads the signed message out of a push's result (MpoolPushMessage returns it), so the pool
// can re-push it on a failover.

import LotusWire
import PoolRuntime

/// The pool's `PushResultReader` for Lotus's JSON: MpoolPushMessage's result is the signed message it sent.
public struct LotusPushResultReader: PushResultReader {
    /// A reader; it holds no state, so one can be shared by every pool.
    public init() {}

    /// The nonce (`Message.Nonce`) and CID (`CID`) of a signed message result, keeping `result` as its JSON; nil when
    /// the result is not a signed message.
    public func acceptedMessage(inResult result: [UInt8]) -> SignedMessageFacts? {
        guard let json = try? JSON.parse(result), let nonce = json["Message"]?["Nonce"]?.int, nonce >= 0,
            let cid = json["CID"]?["/"]?.string
        else { return nil }
        return SignedMessageFacts(nonce: UInt64(nonce), cid: cid, json: result)
    }
}
