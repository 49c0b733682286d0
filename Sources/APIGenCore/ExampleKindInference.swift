// Infers param kinds from the example values of Lotus's methods markdown.

import RouteModel

/// Lotus's doc generator writes a fixed example value per Go type (`"f01234"` for an address,
/// `10101` for an epoch, two CIDs for a TipSetKey, …). For methods the OpenRPC document leaves
/// out, the examples are all there is; this reads them back into kinds.
public enum ExampleKindInference {
    /// The kind an example stands for; `other` when the example is not one of the fixed
    /// values routing cares about.
    public static func kind(of example: JSONValue) -> ParamKind {
        switch example {
        case .string(let text):
            if text == "f01234" { return .address }
            if text.hasPrefix("0x") && text.count == 42 { return .ethAddress }
            return .other
        case .number(let value):
            return value == 10101 ? .epoch : .other
        case .object(let fields):
            if fields.keys.sorted() == ["/"] { return .cid }
            if isMessage(example) { return .message }
            if let message = fields["Message"], isMessage(message), fields["Signature"] != nil { return .signedMessage }
            return .other
        case .array(let items):
            if items.count == 2 && items.allSatisfy({ kind(of: $0) == .cid }) { return .tipSetKey }
            guard let first = items.first else { return .other }
            switch kind(of: first) {
            case .message: return .messages
            case .signedMessage: return .signedMessages
            default:
                if first["ValidNonce"] != nil, let message = first["Message"], isMessage(message) {
                    return .messagePrototypes
                }
                return .other
            }
        case .null, .bool:
            return .other
        }
    }

    private static func isMessage(_ value: JSONValue) -> Bool {
        value["From"] != nil && value["To"] != nil && value["Nonce"] != nil && value["GasLimit"] != nil
    }
}
