// Finds values inside JSON bytes without building a tree: the pool routes a request from its
// raw bytes and forwards the params untouched, decoding only what routing needs.

/// Byte-range access to JSON text. Every function validates what it walks over, so a range it
/// returns always holds one complete, well-formed JSON value.
public enum RawJSON {
    /// Nesting deeper than this is refused (a hostile frame cannot exhaust the stack).
    public static let maxDepth = 512

    /// The range of the value that starts at or after `start` (leading whitespace skipped).
    ///
    /// - Throws: `JSONParseError` with the byte offset of the first problem.
    public static func value(in bytes: [UInt8], from start: Int) throws(JSONParseError) -> Range<Int> {
        // The scanner reads through an unsafe pointer: its start is checked here, once.
        precondition(start >= 0 && start <= bytes.count, "RawJSON: start \(start) outside 0...\(bytes.count)")
        return try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> Range<Int> in
            var scanner = Scanner(bytes: buffer, position: start)
            scanner.skipWhitespace()
            let begin = scanner.position
            try scanner.skipValue(depth: 0)
            return begin..<scanner.position
        }
    }

    /// Checks that `bytes` is exactly one JSON value (with optional surrounding whitespace).
    public static func validate(_ bytes: [UInt8]) throws(JSONParseError) -> Range<Int> {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> Range<Int> in
            var scanner = Scanner(bytes: buffer, position: 0)
            scanner.skipWhitespace()
            let begin = scanner.position
            try scanner.skipValue(depth: 0)
            let end = scanner.position
            scanner.skipWhitespace()
            guard scanner.position == buffer.count else {
                throw JSONParseError(offset: scanner.position, reason: "data after the JSON value")
            }
            return begin..<end
        }
    }

    /// The members of the object in `range`, as (key, value range) pairs in order. Keys with
    /// escapes are decoded.
    ///
    /// - Throws: `JSONParseError` when `range` is not an object.
    public static func members(of bytes: [UInt8], in range: Range<Int>) throws(JSONParseError) -> [(key: String, value: Range<Int>)] {
        var members: [(key: String, value: Range<Int>)] = []
        try self.forEachMember(of: bytes, in: range) { key, value in
            members.append((Self.decodeString(bytes, key) ?? "", value))
        }
        return members
    }

    /// Walks the object in `range`, giving each member's key range (with its quotes) and value
    /// range, in order, without decoding the keys.
    ///
    /// - Throws: `JSONParseError` when `range` is not an object.
    public static func forEachMember(of bytes: [UInt8], in range: Range<Int>, _ body: (Range<Int>, Range<Int>) -> Void)
        throws(JSONParseError)
    {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "RawJSON: range \(range) outside 0..<\(bytes.count)")
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) in
            var scanner = Scanner(bytes: buffer, position: range.lowerBound)
            try scanner.walkObject(depth: 0, body)
        }
    }

    /// The value of `key` in the object in `range`, or nil (also when `range` is no object).
    public static func member(_ key: String, of bytes: [UInt8], in range: Range<Int>) -> Range<Int>? {
        guard range.lowerBound < bytes.count, bytes[range.lowerBound] == UInt8(ascii: "{") else { return nil }
        return (try? self.members(of: bytes, in: range))?.first { $0.key == key }?.value
    }

    /// The element ranges of the array in `range`.
    ///
    /// - Throws: `JSONParseError` when `range` is not an array.
    public static func elements(of bytes: [UInt8], in range: Range<Int>) throws(JSONParseError) -> [Range<Int>] {
        var elements: [Range<Int>] = []
        try self.forEachElement(of: bytes, in: range) { elements.append($0) }
        return elements
    }

    /// Calls `body` with each element's range of the array in `range`, in order: `elements`
    /// without building the array, for a reader that looks at each element once (every call's
    /// params are read this way).
    ///
    /// - Throws: `JSONParseError` when `range` is not an array; `body` may have seen its first elements.
    public static func forEachElement(of bytes: [UInt8], in range: Range<Int>, _ body: (Range<Int>) -> Void) throws(JSONParseError) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "RawJSON: range \(range) outside 0..<\(bytes.count)")
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) in
            var scanner = Scanner(bytes: buffer, position: range.lowerBound)
            try scanner.walkArray(depth: 0, body)
        }
    }

    /// Whether the value in `range` is an array with an element other than `null`: for a value
    /// already scanned as valid JSON (an element `elements` or `forEachElement` gave). Lotus
    /// decodes a TipSetKey of nulls (`[null]`) as the empty key, which means the head.
    public static func hasNonNullElement(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        guard !range.isEmpty, bytes[range.lowerBound] == UInt8(ascii: "[") else { return false }
        var found = false
        // Valid JSON: an element whose first byte is `n` is `null`.
        try? self.forEachElement(of: bytes, in: range) { element in
            if !element.isEmpty, bytes[element.lowerBound] != UInt8(ascii: "n") { found = true }
        }
        return found
    }

    /// The string in `range` (with its quotes), decoded; nil when it is not a string.
    public static func decodeString(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let inner = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return (try? JSON.parse(bytes[range]))?.string
    }

    /// The integer in `range`; nil when it is not an integer that fits in Int64.
    public static func decodeInt(_ bytes: [UInt8], _ range: Range<Int>) -> Int64? {
        guard !range.isEmpty else { return nil }
        var value: Int64 = 0
        var index = range.lowerBound
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < range.upperBound else { return nil }
        while index < range.upperBound {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Int64(byte - UInt8(ascii: "0"))
            // Summed towards the sign: Int64.min's magnitude fits no Int64, so a negated
            // positive sum would miss it (the tree parser reads it).
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            index += 1
        }
        return value
    }

    /// Walks bytes it borrows for the length of one public call; every read is behind a check
    /// of `position` against `bytes.count`.
    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position: Int

        var peek: UInt8? { self.position < self.bytes.count ? self.bytes[self.position] : nil }

        func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: self.position, reason: reason) }

        mutating func skipWhitespace() {
            while let byte = self.peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { self.position += 1 }
        }

        mutating func expect(_ byte: UInt8) throws(JSONParseError) {
            guard self.peek == byte else {
                throw self.fail(self.peek == nil ? "unexpected end of JSON" : "expected '\(Character(Unicode.Scalar(byte)))'")
            }
            self.position += 1
        }

        mutating func skipValue(depth: Int) throws(JSONParseError) {
            guard depth < RawJSON.maxDepth else { throw self.fail("nesting deeper than \(RawJSON.maxDepth)") }
            self.skipWhitespace()
            guard let byte = self.peek else { throw self.fail("unexpected end of JSON") }
            switch byte {
            case UInt8(ascii: "\""): try self.skipString()
            case UInt8(ascii: "{"): try self.walkObject(depth: depth) { _, _ in }
            case UInt8(ascii: "["): try self.walkArray(depth: depth) { _ in }
            case UInt8(ascii: "t"): try self.skipLiteral("true")
            case UInt8(ascii: "f"): try self.skipLiteral("false")
            case UInt8(ascii: "n"): try self.skipLiteral("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try self.skipNumber()
            default: throw self.fail("invalid character '\(Character(Unicode.Scalar(byte)))' looking for beginning of value")
            }
        }

        /// Walks the object starting here, giving each member's key range (with its quotes) and
        /// value range; its values are at `depth + 1`.
        mutating func walkObject(depth: Int, _ member: (Range<Int>, Range<Int>) -> Void) throws(JSONParseError) {
            try self.expect(UInt8(ascii: "{"))
            self.skipWhitespace()
            if self.peek == UInt8(ascii: "}") {
                self.position += 1
                return
            }
            while true {
                self.skipWhitespace()
                let keyStart = self.position
                try self.skipString()
                let key = keyStart..<self.position
                self.skipWhitespace()
                try self.expect(UInt8(ascii: ":"))
                self.skipWhitespace()
                let valueStart = self.position
                try self.skipValue(depth: depth + 1)
                member(key, valueStart..<self.position)
                self.skipWhitespace()
                if self.peek == UInt8(ascii: ",") {
                    self.position += 1
                    continue
                }
                try self.expect(UInt8(ascii: "}"))
                return
            }
        }

        /// Walks the array starting here, giving each element's range; its elements are at `depth + 1`.
        mutating func walkArray(depth: Int, _ element: (Range<Int>) -> Void) throws(JSONParseError) {
            try self.expect(UInt8(ascii: "["))
            self.skipWhitespace()
            if self.peek == UInt8(ascii: "]") {
                self.position += 1
                return
            }
            while true {
                self.skipWhitespace()
                let start = self.position
                try self.skipValue(depth: depth + 1)
                element(start..<self.position)
                self.skipWhitespace()
                if self.peek == UInt8(ascii: ",") {
                    self.position += 1
                    continue
                }
                try self.expect(UInt8(ascii: "]"))
                return
            }
        }

        mutating func skipLiteral(_ word: StaticString) throws(JSONParseError) {
            let count = word.utf8CodeUnitCount
            guard self.position + count <= self.bytes.count else { throw self.fail("unexpected end of JSON") }
            let matches = word.withUTF8Buffer { literal in
                (0..<count).allSatisfy { self.bytes[self.position + $0] == literal[$0] }
            }
            guard matches else { throw self.fail("invalid literal") }
            self.position += count
        }

        mutating func skipNumber() throws(JSONParseError) {
            if self.peek == UInt8(ascii: "-") { self.position += 1 }
            guard let first = self.peek, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { throw self.fail("invalid number") }
            if first == UInt8(ascii: "0") { self.position += 1 } else { self.skipDigits() }
            if self.peek == UInt8(ascii: ".") {
                self.position += 1
                guard self.skipDigits() > 0 else { throw self.fail("invalid number: no digits after '.'") }
            }
            if self.peek == UInt8(ascii: "e") || self.peek == UInt8(ascii: "E") {
                self.position += 1
                if self.peek == UInt8(ascii: "+") || self.peek == UInt8(ascii: "-") { self.position += 1 }
                guard self.skipDigits() > 0 else { throw self.fail("invalid number: no digits in exponent") }
            }
        }

        @discardableResult
        mutating func skipDigits() -> Int {
            let start = self.position
            while let byte = self.peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { self.position += 1 }
            return self.position - start
        }

        /// Skips a string, checking escapes and that no control character appears raw. UTF-8
        /// validity is left to whoever decodes the string (a daemon, or `decodeString`).
        mutating func skipString() throws(JSONParseError) {
            try self.expect(UInt8(ascii: "\""))
            while true {
                self.skipPlainStringBytes()
                guard let byte = self.peek else { break }
                self.position += 1
                switch byte {
                case UInt8(ascii: "\""): return
                case UInt8(ascii: "\\"):
                    guard let escaped = self.peek else { throw self.fail("unexpected end of JSON in string escape") }
                    self.position += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        break
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard let hex = self.peek, hex.isHexDigit else { throw self.fail("invalid \\u escape") }
                            self.position += 1
                        }
                    default: throw self.fail("invalid escape in string")
                    }
                case 0..<0x20: throw self.fail("invalid control character in string")
                default: break
                }
            }
            throw self.fail("unexpected end of JSON in string")
        }

        /// Skips string bytes that need no look (not a quote, a backslash or a control
        /// character) eight at a time: Lotus answers are mostly long strings (CIDs, base64).
        mutating func skipPlainStringBytes() {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            guard let base = self.bytes.baseAddress else { return }
            while self.position + 8 <= self.bytes.count {
                let word = UnsafeRawPointer(base + self.position).loadUnaligned(as: UInt64.self)
                // Per byte: equal to '"' or '\\' (a zero byte after XOR), or below 0x20.
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                let special =
                    ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
                guard special & highs == 0 else { return }
                self.position += 8
            }
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
