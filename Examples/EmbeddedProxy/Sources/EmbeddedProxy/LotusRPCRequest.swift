// One JSON-RPC 2.0 request as a Lotus client sends it over HTTP: its id, its method and its
// params, the params kept as JSON text for the daemon.

import Foundation

/// A request read from an HTTP body.
struct LotusRPCRequest: Sendable {
    /// The request's id as JSON text (`1`, `"a"`), echoed in the answer; `null` when absent.
    let id: [UInt8]
    /// The method as sent, `Filecoin.ChainHead`.
    let method: String
    /// The params array as JSON text (`[]` when absent).
    let params: [UInt8]

    /// Nil when the body is not a JSON-RPC request object with a method and a params array.
    init?(body: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let method = object["method"] as? String
        else { return nil }
        let params = object["params"] ?? [Any]()
        guard params is [Any], let id = Self.json(object["id"] ?? NSNull()), let paramsText = Self.json(params) else { return nil }
        self.id = id
        self.method = method
        self.params = paramsText
    }

    /// `value` as JSON text; nil for what JSON cannot hold.
    static func json(_ value: Any) -> [UInt8]? {
        (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes])).map { Array($0) }
    }
}
