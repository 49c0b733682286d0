// JSON-RPC 2.0 frames as go-jsonrpc (Lotus's RPC library) sends and accepts them.

/// A JSON-RPC error object: `{"code":1,"message":"…"}`. Codes are always integers.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON-RPC error code: negative (-32xxx) for go-jsonrpc's protocol errors, small positive codes
    /// for Lotus's own (1 for most, 11 actor not found, 12 null round); 0 when a received error had none.
    public let code: Int64
    /// The error text as sent; Lotus wraps errors, so recognise one by a substring, not the whole text.
    public let message: String

    /// An error with the given code and text.
    public init(code: Int64, message: String) {
        self.code = code
        self.message = message
    }

    /// `RPC error (code): message`, for logs and test failures.
    public var description: String { "RPC error (\(self.code)): \(self.message)" }

    /// The error object, `{"code":…,"message":…}`, for a response's `error` member.
    public var json: JSON { ["code": .int(self.code), "message": .string(self.message)] }

    // go-jsonrpc v0.1.5's protocol errors (LOTUS-WIRE.md §6).
    /// A frame or params that cannot be decoded (-32700); `detail` says what is wrong.
    public static func parse(_ detail: String) -> RPCError { RPCError(code: -32700, message: "unmarshaling request: \(detail)") }
    /// A request over the server's size limit of `limit` bytes (-32700).
    public static func tooBig(limit: Int) -> RPCError { RPCError(code: -32700, message: "request bigger than maximum \(limit) allowed") }
    /// An unknown method (-32601); `method` is the whole wire name the client sent (`Filecoin.ChainHead`).
    public static func methodNotFound(_ method: String) -> RPCError { RPCError(code: -32601, message: "method '\(method)' not found") }
    /// A channel method called where channels cannot be sent (over HTTP), -32601.
    public static func noChannelSupport(_ method: String) -> RPCError {
        RPCError(code: -32601, message: "method '\(method)' not supported in this mode (no out channel support)")
    }
    /// A call with `got` params where `method` takes `want` (-32602).
    public static func wrongParamCount(_ method: String, got: Int, want: Int) -> RPCError {
        RPCError(code: -32602, message: "wrong param count (method '\(method)'): \(got) != \(want)")
    }
    /// Param `param` (0-based) of `method` does not decode as its Go type (-32700, as go-jsonrpc sends it).
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
    /// A call: `{"jsonrpc":"2.0","id":…,"method":…,"params":[…]}`.
    public static func request(id: Int64, method: String, params: [JSON]) -> JSON {
        ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .array(params)]
    }

    /// A successful answer to the request with `id` (echoed as the client sent it).
    public static func result(id: JSON, _ result: JSON) -> JSON {
        ["jsonrpc": "2.0", "result": result, "id": id]
    }

    /// An error answer to the request with `id` (echoed as the client sent it).
    public static func error(id: JSON, _ error: RPCError) -> JSON {
        ["jsonrpc": "2.0", "id": id, "error": error.json]
    }

    /// A frame without an id: the receiver sends no answer.
    public static func notification(method: String, params: [JSON]) -> JSON {
        ["jsonrpc": "2.0", "method": .string(method), "params": .array(params)]
    }

    /// `xrpc.ch.val`: one value of an open channel.
    public static func channelValue(channel: UInt64, _ value: JSON) -> JSON {
        self.notification(method: "xrpc.ch.val", params: [.int(Int64(channel)), value])
    }

    /// `xrpc.ch.close`: the channel has ended; no value follows it.
    public static func channelClose(channel: UInt64) -> JSON {
        self.notification(method: "xrpc.ch.close", params: [.int(Int64(channel))])
    }

    /// `xrpc.cancel`: the client gave the request up; the server stops it and answers `canceled`.
    public static func cancel(requestID: Int64) -> JSON {
        self.notification(method: "xrpc.cancel", params: [.int(requestID)])
    }
}
