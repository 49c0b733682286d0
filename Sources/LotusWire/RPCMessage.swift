// JSON-RPC 2.0 frames as go-jsonrpc (Lotus's RPC library) sends and accepts them.

/// A JSON-RPC error object: `{"code":1,"message":"…"}`. Codes are always integers.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Int64
    public let message: String

    public init(code: Int64, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "RPC error (\(self.code)): \(self.message)" }

    public var json: JSON { ["code": .int(self.code), "message": .string(self.message)] }

    // go-jsonrpc v0.1.5's protocol errors (LOTUS-WIRE.md §6).
    public static func parse(_ detail: String) -> RPCError { RPCError(code: -32700, message: "unmarshaling request: \(detail)") }
    public static func tooBig(limit: Int) -> RPCError { RPCError(code: -32700, message: "request bigger than maximum \(limit) allowed") }
    public static func methodNotFound(_ method: String) -> RPCError { RPCError(code: -32601, message: "method '\(method)' not found") }
    public static func noChannelSupport(_ method: String) -> RPCError {
        RPCError(code: -32601, message: "method '\(method)' not supported in this mode (no out channel support)")
    }
    public static func wrongParamCount(_ method: String, got: Int, want: Int) -> RPCError {
        RPCError(code: -32602, message: "wrong param count (method '\(method)'): \(got) != \(want)")
    }
    public static func badParams(_ method: String, param: Int, detail: String) -> RPCError {
        RPCError(code: -32700, message: "unmarshaling params for '\(method)' (param: \(param)): \(detail)")
    }
    /// What a server answers a call whose client sent `xrpc.cancel`.
    public static let canceled = RPCError(code: 1, message: "context canceled")
}

/// One parsed incoming frame.
public enum RPCFrame: Sendable, Equatable {
    /// A call; `id` is what the client sent (go-jsonrpc clients send integers).
    case request(id: JSON, method: String, params: [JSON])
    /// A frame without an id (`xrpc.cancel`, `xrpc.ch.val`, `xrpc.ch.close`).
    case notification(method: String, params: [JSON])
    case response(id: JSON, result: JSON?, error: RPCError?)

    /// Classifies a parsed JSON frame.
    ///
    /// - Throws: `RPCError` -32700/-32600 style errors for frames that are not JSON-RPC.
    public init(_ json: JSON) throws(RPCError) {
        guard case .object = json else { throw RPCError.parse("expected a JSON object") }
        if let method = json["method"] {
            guard let name = method.string else { throw RPCError.parse("method is not a string") }
            let params: [JSON]
            switch json["params"] {
            case nil, .some(.null): params = []
            case .some(.array(let items)): params = items
            default: throw RPCError.parse("params must be an array")
            }
            if let id = json["id"], !id.isNull {
                self = .request(id: id, method: name, params: params)
            } else {
                self = .notification(method: name, params: params)
            }
            return
        }
        guard let id = json["id"] else { throw RPCError.parse("frame has neither method nor id") }
        var error: RPCError?
        if let object = json["error"], !object.isNull {
            error = RPCError(code: object["code"]?.int ?? 0, message: object["message"]?.string ?? "")
        }
        self = .response(id: id, result: json["result"], error: error)
    }
}

/// Builds outgoing frames.
public enum RPCFrames {
    public static func request(id: Int64, method: String, params: [JSON]) -> JSON {
        ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .array(params)]
    }

    public static func result(id: JSON, _ result: JSON) -> JSON {
        ["jsonrpc": "2.0", "result": result, "id": id]
    }

    public static func error(id: JSON, _ error: RPCError) -> JSON {
        ["jsonrpc": "2.0", "id": id, "error": error.json]
    }

    public static func notification(method: String, params: [JSON]) -> JSON {
        ["jsonrpc": "2.0", "method": .string(method), "params": .array(params)]
    }

    public static func channelValue(channel: UInt64, _ value: JSON) -> JSON {
        self.notification(method: "xrpc.ch.val", params: [.int(Int64(channel)), value])
    }

    public static func channelClose(channel: UInt64) -> JSON {
        self.notification(method: "xrpc.ch.close", params: [.int(Int64(channel))])
    }

    public static func cancel(requestID: Int64) -> JSON {
        self.notification(method: "xrpc.cancel", params: [.int(requestID)])
    }
}
