// Parses JSON bytes (RFC 8259) into JSON values, with the byte offset of any error.

/// Malformed JSON, with where and what.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 0-based byte offset in the input where the problem was found.
    public let offset: Int
    /// What was wrong, e.g. `expected ':'` or `nesting too deep`.
    public let reason: String

    /// `reason at byte offset`.
    public var description: String { "\(self.reason) at byte \(self.offset)" }
}

extension JSON {
    /// Parses a complete JSON document; trailing whitespace is allowed, anything else is not.
    ///
    /// - Throws: `JSONParseError`.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSON {
        let buffer = Array(bytes)
        var parser = JSONParser(bytes: buffer)
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw parser.error("unexpected trailing data") }
        return value
    }

    /// Parses the UTF-8 bytes of `text`, as `parse(_:)` does bytes.
    ///
    /// - Throws: `JSONParseError`, its offset counted in UTF-8 bytes.
    public static func parse(_ text: String) throws(JSONParseError) -> JSON {
        try JSON.parse(Array(text.utf8))
    }
}

struct JSONParser {
    let bytes: [UInt8]
    var index = 0
    /// Deep nesting is an attack, not a Lotus message.
    static let maxDepth = 512

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func error(_ reason: String) -> JSONParseError {
        JSONParseError(offset: self.index, reason: reason)
    }

    mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSON {
        guard depth < Self.maxDepth else { throw self.error("nesting too deep") }
        self.skipWhitespace()
        guard self.index < self.bytes.count else { throw self.error("unexpected end of input") }
        switch self.bytes[self.index] {
        case UInt8(ascii: "{"): return try self.parseObject(depth: depth)
        case UInt8(ascii: "["): return try self.parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "t"): return try self.literal("true", .bool(true))
        case UInt8(ascii: "f"): return try self.literal("false", .bool(false))
        case UInt8(ascii: "n"): return try self.literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try self.parseNumber()
        default: throw self.error("unexpected character '\(Character(Unicode.Scalar(self.bytes[self.index])))'")
        }
    }

    mutating func literal(_ word: String, _ value: JSON) throws(JSONParseError) -> JSON {
        let expected = Array(word.utf8)
        guard self.index + expected.count <= self.bytes.count,
            Array(self.bytes[self.index..<self.index + expected.count]) == expected
        else { throw self.error("invalid literal") }
        self.index += expected.count
        return value
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSON {
        self.index += 1
        var fields: [(String, JSON)] = []
        self.skipWhitespace()
        if self.index < self.bytes.count && self.bytes[self.index] == UInt8(ascii: "}") {
            self.index += 1
            return .object(fields)
        }
        while true {
            self.skipWhitespace()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
                throw self.error("expected a string key")
            }
            let key = try self.parseString()
            self.skipWhitespace()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: ":") else { throw self.error("expected ':'") }
            self.index += 1
            fields.append((key, try self.parseValue(depth: depth + 1)))
            self.skipWhitespace()
            guard self.index < self.bytes.count else { throw self.error("unexpected end of input") }
            if self.bytes[self.index] == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            guard self.bytes[self.index] == UInt8(ascii: "}") else { throw self.error("expected ',' or '}'") }
            self.index += 1
            return .object(fields)
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSON {
        self.index += 1
        var items: [JSON] = []
        self.skipWhitespace()
        if self.index < self.bytes.count && self.bytes[self.index] == UInt8(ascii: "]") {
            self.index += 1
            return .array(items)
        }
        while true {
            items.append(try self.parseValue(depth: depth + 1))
            self.skipWhitespace()
            guard self.index < self.bytes.count else { throw self.error("unexpected end of input") }
            if self.bytes[self.index] == UInt8(ascii: ",") {
                self.index += 1
                continue
            }
            guard self.bytes[self.index] == UInt8(ascii: "]") else { throw self.error("expected ',' or ']'") }
            self.index += 1
            return .array(items)
        }
    }

    /// Reads a number by RFC 8259's grammar, as `RawJSON` and Go's decoder do: `01`, `1.`,
    /// `.5`, `1e` and `-` are refused (Swift's own number parsing would take some of them).
    mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = self.index
        var isInteger = true
        if self.byte == UInt8(ascii: "-") { self.index += 1 }
        guard let first = self.byte, first.isDigit else { throw self.error("invalid number") }
        self.index += 1
        if first != UInt8(ascii: "0") { self.skipDigits() }
        if self.byte == UInt8(ascii: ".") {
            isInteger = false
            self.index += 1
            guard self.skipDigits() > 0 else { throw self.error("invalid number: no digits after '.'") }
        }
        if self.byte == UInt8(ascii: "e") || self.byte == UInt8(ascii: "E") {
            isInteger = false
            self.index += 1
            if self.byte == UInt8(ascii: "+") || self.byte == UInt8(ascii: "-") { self.index += 1 }
            guard self.skipDigits() > 0 else { throw self.error("invalid number: no digits in exponent") }
        }
        let text = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text) else { throw JSONParseError(offset: start, reason: "invalid number '\(text)'") }
        return .double(value)
    }

    /// The byte at `index`, nil at the end.
    var byte: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    @discardableResult
    mutating func skipDigits() -> Int {
        let start = self.index
        while let byte = self.byte, byte.isDigit { self.index += 1 }
        return self.index - start
    }

    mutating func parseString() throws(JSONParseError) -> String {
        self.index += 1
        var out: [UInt8] = []
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                self.index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                self.index += 1
                guard self.index < self.bytes.count else { throw self.error("unterminated escape") }
                let escape = self.bytes[self.index]
                self.index += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try self.hex4()
                    // A high surrogate combines only with a following low one; anything else
                    // becomes U+FFFD, as Go's decoder does (never an arithmetic trap).
                    if (0xD800..<0xDC00).contains(scalar), self.index + 5 < self.bytes.count,
                        self.bytes[self.index] == UInt8(ascii: "\\"), self.bytes[self.index + 1] == UInt8(ascii: "u")
                    {
                        let mark = self.index
                        self.index += 2
                        let low = try self.hex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            self.index = mark
                        }
                    }
                    out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
                default: throw self.error("invalid escape")
                }
            case 0..<0x20:
                throw self.error("control character in string")
            default:
                out.append(byte)
                self.index += 1
            }
        }
        throw self.error("unterminated string")
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.error("invalid hex digit")
            }
            value = value << 4 | UInt32(digit)
            self.index += 1
        }
        return value
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
}
