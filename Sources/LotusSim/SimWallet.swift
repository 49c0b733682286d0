// Signing as any wallet holding a fixture account's key would: lets a client build the signed
// messages MpoolPush takes, as a miner or a tool with its own wallet does.

import LotusWire

/// The simulator's signatures, for clients outside a daemon.
public enum SimWallet {
    /// The signed message (`types.SignedMessage`, with its CID) that a wallet holding the
    /// sender's key makes of `message`, a `types.Message` in Lotus's JSON. The fields are
    /// signed as given: no gas is filled in, as MpoolPush does not fill it either.
    ///
    /// - Throws: `RPCError` naming the field when `message` is not a message.
    public static func sign(_ message: JSON) throws(RPCError) -> JSON {
        let unsigned = try SimMessage(json: message, method: "WalletSignMessage", param: 1)
        let signature = SimIdentifiers.signature(from: unsigned.from, messageCID: unsigned.cid)
        return SimSignedMessage(message: unsigned, signature: signature).json
    }
}
