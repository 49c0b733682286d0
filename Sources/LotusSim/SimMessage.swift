// Filecoin messages as the simulator reads and writes them (Lotus's JSON field names).

import LotusWire

/// An unsigned message (`types.Message`).
struct SimMessage: Sendable, Equatable {
    var version: Int64 = 0
    var to: String
    var from: String
    var nonce: UInt64
    var value: UInt128
    var gasLimit: Int64
    var gasFeeCap: UInt128
    var gasPremium: UInt128
    var method: UInt64
    var params: String

    /// Reads Lotus's message JSON.
    ///
    /// - Throws: `RPCError` naming the bad field, as go-jsonrpc reports undecodable params.
    init(json: JSON, method rpcMethod: String, param: Int) throws(RPCError) {
        func bad(_ detail: String) -> RPCError { RPCError.badParams(rpcMethod, param: param, detail: detail) }
        guard case .object = json else { throw bad("json: cannot unmarshal into Go value of type types.Message") }
        guard let to = json["To"]?.string, let from = json["From"]?.string else { throw bad("message needs To and From addresses") }
        self.to = to
        self.from = from
        self.version = json["Version"]?.int ?? 0
        self.nonce = UInt64(max(0, json["Nonce"]?.int ?? 0))
        self.value = try Self.bigInt(json["Value"], field: "Value", bad: bad)
        self.gasLimit = json["GasLimit"]?.int ?? 0
        self.gasFeeCap = try Self.bigInt(json["GasFeeCap"], field: "GasFeeCap", bad: bad)
        self.gasPremium = try Self.bigInt(json["GasPremium"], field: "GasPremium", bad: bad)
        self.method = UInt64(max(0, json["Method"]?.int ?? 0))
        self.params = json["Params"]?.string ?? ""
    }

    init(to: String, from: String, nonce: UInt64, value: UInt128) {
        self.to = to
        self.from = from
        self.nonce = nonce
        self.value = value
        self.gasLimit = 0
        self.gasFeeCap = 0
        self.gasPremium = 0
        self.method = 0
        self.params = ""
    }

    private static func bigInt(_ value: JSON?, field: String, bad: (String) -> RPCError) throws(RPCError) -> UInt128 {
        guard let value, !value.isNull else { return 0 }
        guard let text = value.string, let number = UInt128(text) else { throw bad("\(field): expected a decimal string") }
        return number
    }

    /// The gas fields GasEstimateMessageGas and MpoolPushMessage fill when left zero.
    func withGasDefaults() -> SimMessage {
        var message = self
        if message.gasLimit == 0 { message.gasLimit = 1_500_000 }
        if message.gasFeeCap == 0 { message.gasFeeCap = 100_000 }
        if message.gasPremium == 0 { message.gasPremium = 1_000 }
        return message
    }

    /// The message's CID: a hash of its fields.
    var cid: String {
        SimIdentifiers.cid(
            "msg:\(self.version):\(self.to):\(self.from):\(self.nonce):\(self.value):\(self.gasLimit):\(self.gasFeeCap):\(self.gasPremium):\(self.method):\(self.params)"
        )
    }

    var json: JSON {
        [
            "Version": .int(self.version), "To": .string(self.to), "From": .string(self.from), "Nonce": .int(Int64(self.nonce)),
            "Value": .string(String(self.value)), "GasLimit": .int(self.gasLimit), "GasFeeCap": .string(String(self.gasFeeCap)),
            "GasPremium": .string(String(self.gasPremium)), "Method": .int(Int64(self.method)), "Params": .string(self.params),
            "CID": ["/": .string(self.cid)],
        ]
    }
}

/// A signed message (`types.SignedMessage`).
struct SimSignedMessage: Sendable, Equatable {
    var message: SimMessage
    var signatureType: Int64
    var signature: String

    init(message: SimMessage, signatureType: Int64 = 1, signature: String) {
        self.message = message
        self.signatureType = signatureType
        self.signature = signature
    }

    /// The premium a message at the same nonce needs to replace this one: 25 % more, as
    /// Lotus's mpool asks (replace-by-fee).
    var replacementPremium: UInt128 { self.message.gasPremium + self.message.gasPremium / 4 + 1 }

    init(json: JSON, method rpcMethod: String, param: Int) throws(RPCError) {
        guard let message = json["Message"], let signature = json["Signature"] else {
            throw RPCError.badParams(rpcMethod, param: param, detail: "signed message needs Message and Signature")
        }
        self.message = try SimMessage(json: message, method: rpcMethod, param: param)
        self.signatureType = signature["Type"]?.int ?? 1
        self.signature = signature["Data"]?.string ?? ""
    }

    var cid: String { SimIdentifiers.cid("signed:\(self.message.cid):\(self.signature)") }

    var json: JSON {
        [
            "Message": self.message.json, "Signature": ["Type": .int(self.signatureType), "Data": .string(self.signature)],
            "CID": ["/": .string(self.cid)],
        ]
    }
}
