// A JSON-RPC frame read as byte ranges: id, method, params, result, error, without decoding
// the values, so the pool forwards params and results exactly as they arrived.

import NIOCore

/// One incoming frame's parts, found by a single validating pass.
public struct RawRPCFrame: Sendable {
    /// The whole frame as received; every range below indexes into it.
    public let bytes: [UInt8]
    /// The `id` value (absent or `null` → nil).
    public let id: Range<Int>?
    /// The `method` string's bytes between its quotes.
    public let method: Range<Int>?
    /// True when the method string holds escapes (then `methodName` decodes it).
    public let methodHasEscapes: Bool
    /// The `params` value (absent or `null` → nil); not checked to be an array here.
    public let params: Range<Int>?
    /// The `result` value; present even when it is `null`, which is an answer too (absent → nil).
    public let result: Range<Int>?
    /// The `error` object (absent or `null` → nil); `decodedError` reads it.
    public let error: Range<Int>?

    /// Reads a frame.
    ///
    /// - Throws: `RPCError` -32700 (`unmarshaling request: …`) for bytes that are not one JSON
    ///   object, or whose method is not a string, as go-jsonrpc answers.
    public init(_ bytes: [UInt8]) throws(RPCError) {
        self.bytes = bytes
        var id: Range<Int>?
        var method: Range<Int>?
        var methodIsString = true
        var params: Range<Int>?
        var result: Range<Int>?
        var errorRange: Range<Int>?
        do {
            let whole = try RawJSON.validate(bytes)
            guard bytes[whole.lowerBound] == UInt8(ascii: "{") else {
                throw RPCError.parse("json: cannot unmarshal non-object into request")
            }
            // Later duplicates win, as in Go's decoder.
            try RawJSON.forEachMember(of: bytes, in: whole) { key, value in
                switch Key(bytes, key) {
                case .id: id = Self.isNull(bytes, value) ? nil : value
                case .method:
                    // A method that is not a string fails the frame, whatever follows.
                    guard bytes[value.lowerBound] == UInt8(ascii: "\"") else { return methodIsString = false }
                    method = (value.lowerBound + 1)..<(value.upperBound - 1)
                case .params: params = Self.isNull(bytes, value) ? nil : value
                case .result: result = value
                case .error: errorRange = Self.isNull(bytes, value) ? nil : value
                case nil: break
                }
            }
        } catch let error as JSONParseError {
            throw RPCError.parse(error.description)
        } catch {
            throw error as! RPCError
        }
        guard methodIsString else { throw RPCError.parse("json: method is not a string") }
        self.id = id
        self.method = method
        self.methodHasEscapes = method.map { bytes[$0].contains(UInt8(ascii: "\\")) } ?? false
        self.params = params
        self.result = result
        self.error = errorRange
    }

    /// The members a frame can have that mean something here.
    private enum Key {
        case id, method, params, result, error

        /// The key in `range` (with its quotes), compared as bytes; decoded first only when it
        /// holds escapes (no key this reads does, so they cost nothing on the usual path).
        init?(_ bytes: [UInt8], _ range: Range<Int>) {
            let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
            if let key = Self(packed: bytes[inner]) {
                self = key
                return
            }
            guard bytes[inner].contains(UInt8(ascii: "\\")), let decoded = RawJSON.decodeString(bytes, range) else { return nil }
            self.init(packed: Array(decoded.utf8)[...])
        }

        /// The name's bytes and length as one little-endian integer (names of at most 6 bytes), compared
        /// with the keys' own: one comparison per key instead of a byte loop per candidate.
        private init?(packed name: ArraySlice<UInt8>) {
            guard (2...6).contains(name.count) else { return nil }
            switch Self.pack(name) {
            case Self.idKey: self = .id
            case Self.methodKey: self = .method
            case Self.paramsKey: self = .params
            case Self.resultKey: self = .result
            case Self.errorKey: self = .error
            default: return nil
            }
        }

        /// The length goes into the top byte: a name padded with `\u0000` escapes is not `id`.
        private static func pack(_ name: some Collection<UInt8>) -> UInt64 {
            var packed = UInt64(name.count) << 56
            var shift: UInt64 = 0
            for byte in name {
                packed |= UInt64(byte) << shift
                shift &+= 8
            }
            return packed
        }

        private static let idKey = pack("id".utf8)
        private static let methodKey = pack("method".utf8)
        private static let paramsKey = pack("params".utf8)
        private static let resultKey = pack("result".utf8)
        private static let errorKey = pack("error".utf8)
    }

    private static func isNull(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        range.count == 4 && bytes[range.lowerBound] == UInt8(ascii: "n")
    }

    /// The id as an integer (go-jsonrpc clients send integers).
    public var intID: Int64? { self.id.flatMap { RawJSON.decodeInt(self.bytes, $0) } }

    /// The decoded method name.
    public var methodName: String? {
        guard let method else { return nil }
        if !self.methodHasEscapes { return String(decoding: self.bytes[method], as: UTF8.self) }
        return RawJSON.decodeString(self.bytes, (method.lowerBound - 1)..<(method.upperBound + 1))
    }

    /// The params' bytes (`[]` when absent).
    public var paramBytes: ArraySlice<UInt8> { self.params.map { self.bytes[$0] } ?? ArraySlice("[]".utf8) }

    /// The error object's code and message.
    public var decodedError: RPCError? {
        guard let error else { return nil }
        let code = RawJSON.member("code", of: self.bytes, in: error).flatMap { RawJSON.decodeInt(self.bytes, $0) } ?? 0
        let message = RawJSON.member("message", of: self.bytes, in: error).flatMap { RawJSON.decodeString(self.bytes, $0) } ?? ""
        return RPCError(code: code, message: message)
    }
}

/// Where an outgoing frame is written: an array (HTTP bodies, admin answers, channel values)
/// or a `ByteBuffer` (a WebSocket frame, written in place behind its header's room). One
/// builder per frame serves both.
public protocol FrameSink {
    mutating func write(_ bytes: some Collection<UInt8>)
    mutating func write(byte: UInt8)
}

extension Array: FrameSink where Element == UInt8 {
    /// Appends `bytes`.
    @inlinable public mutating func write(_ bytes: some Collection<UInt8>) { self.append(contentsOf: bytes) }
    /// Appends one byte.
    @inlinable public mutating func write(byte: UInt8) { self.append(byte) }
}

extension ByteBuffer: FrameSink {
    /// Writes `bytes` at the writer index, growing the buffer as needed.
    @inlinable public mutating func write(_ bytes: some Collection<UInt8>) { self.writeBytes(bytes) }
    /// Writes one byte at the writer index.
    @inlinable public mutating func write(byte: UInt8) { self.writeInteger(byte) }
}

/// Builds outgoing frames from raw parts, without a JSON tree.
public enum RawRPCFrames {
    /// `{"jsonrpc":"2.0","result":<result>,"id":<id>}`.
    @inlinable
    public static func result(id: some Collection<UInt8>, result: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(id.count + result.count + 36)
        self.writeResult(id: id, result: result, into: &out)
        return out
    }

    /// `{"jsonrpc":"2.0","result":<result>,"id":<id>}`, written into `sink`.
    @inlinable
    public static func writeResult(id: some Collection<UInt8>, result: some Collection<UInt8>, into sink: inout some FrameSink) {
        sink.write(#"{"jsonrpc":"2.0","result":"#.utf8)
        sink.write(result)
        sink.write(#","id":"#.utf8)
        sink.write(id)
        sink.write(byte: UInt8(ascii: "}"))
    }

    /// `{"jsonrpc":"2.0","id":<id>,"error":{"code":…,"message":…}}`.
    @inlinable
    public static func error(id: some Collection<UInt8>, _ error: RPCError) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        out.append(contentsOf: id)
        out.append(contentsOf: #","error":"#.utf8)
        out.append(contentsOf: error.json.encoded())
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `{"jsonrpc":"2.0","id":<id>,"method":"<method>","params":<params>}`.
    public static func request(id: Int64, method: String, params: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(params.count + method.utf8.count + 56)
        self.writeRequest(id: id, method: method, params: params, into: &out)
        return out
    }

    /// `{"jsonrpc":"2.0","id":<id>,"method":"<method>","params":<params>}`, written into `sink`.
    public static func writeRequest(id: Int64, method: String, params: [UInt8], into sink: inout some FrameSink) {
        sink.write(#"{"jsonrpc":"2.0","id":"#.utf8)
        sink.write(String(id).utf8)
        sink.write(#","method":"#.utf8)
        if JSONWriter.needsNoEscape(method) {
            sink.write(byte: UInt8(ascii: "\""))
            sink.write(method.utf8)
            sink.write(byte: UInt8(ascii: "\""))
        } else {
            var escaped: [UInt8] = []
            JSONWriter.write(string: method, into: &escaped)
            sink.write(escaped)
        }
        sink.write(#","params":"#.utf8)
        sink.write(params)
        sink.write(byte: UInt8(ascii: "}"))
    }

    /// `xrpc.ch.val` for channel `channel` carrying `value`.
    @inlinable
    public static func channelValue(channel: UInt64, value: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(value.count + 64)
        out.append(contentsOf: #"{"jsonrpc":"2.0","method":"xrpc.ch.val","params":["#.utf8)
        out.append(contentsOf: String(channel).utf8)
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: value)
        out.append(contentsOf: "]}".utf8)
        return out
    }
}
