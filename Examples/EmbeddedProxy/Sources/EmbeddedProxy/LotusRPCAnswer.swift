// JSON-RPC answers as Lotus writes them: the daemon's result passed through as it came, an
// error with its code and message.

import Foundation
import PoolRuntime

enum LotusRPCAnswer {
    /// The answer carrying the pool's reply to request `id` (JSON text).
    static func frame(_ reply: PoolReply, id: [UInt8]) -> [UInt8] {
        switch reply {
        case .result(let result, _):
            return Array(#"{"jsonrpc":"2.0","id":"#.utf8) + id + Array(#","result":"#.utf8) + result + [UInt8(ascii: "}")]
        case .error(let code, let message, _):
            return self.error(id: id, code: code, message: message)
        case .failed(let reason):
            // Server-side failures reach Lotus clients as code 1, as go-jsonrpc sends them.
            return self.error(id: id, code: 1, message: reason)
        }
    }

    static func error(id: [UInt8], code: Int64, message: String) -> [UInt8] {
        let text = LotusRPCRequest.json(message) ?? Array(#""""#.utf8)
        return Array(#"{"jsonrpc":"2.0","id":"#.utf8) + id + Array(#","error":{"code":\#(code),"message":"#.utf8) + text
            + Array("}}".utf8)
    }
}
