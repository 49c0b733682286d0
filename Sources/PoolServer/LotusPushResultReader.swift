// Reads the signed message out of a push's result (MpoolPushMessage returns it), so the pool
// can re-push it on a failover.

import LotusWire
import PoolRuntime

public struct LotusPushResultReader: PushResultReader {
    public init() {}

    public func acceptedMessage(inResult result: [UInt8]) -> SignedMessageFacts? {
        guard let json = try? JSON.parse(result), let nonce = json["Message"]?["Nonce"]?.int, nonce >= 0,
            let cid = json["CID"]?["/"]?.string
        else { return nil }
        return SignedMessageFacts(nonce: UInt64(nonce), cid: cid, json: result)
    }
}
