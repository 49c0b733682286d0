// The common daemon answer, read without the general frame parser: the result is still
// validated, but no member list or key strings are built for the frame every call gets back.
// go-jsonrpc writes it in one of two exact forms: `{"jsonrpc":"2.0","result":…,"id":N}` before
// v0.3.2, and with its keys sorted, `{"id":N,"jsonrpc":"2.0","result":…}` and a newline, since
// (every Lotus of the last years). A result byte-for-byte equal to one validated before
// (ChainHead, polled by every worker, answers the same tipset for a whole epoch) is recognised
// by comparison instead of a second walk.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum PlainAnswer {
    private static let resultFirst = Array(#"{"jsonrpc":"2.0","result":"#.utf8)
    private static let idLast = Array(#","id":"#.utf8)
    private static let idFirst = Array(#"{"id":"#.utf8)
    private static let resultLast = Array(#","jsonrpc":"2.0","result":"#.utf8)

    /// The id and the result's range (one well-formed JSON value), or nil for any other frame,
    /// which the general parser then reads. `isKnown`: the result's bytes are exactly `known`
    /// (a result validated earlier), so they were not walked again.
    static func read(_ bytes: [UInt8], known: [UInt8]? = nil) -> (id: Int64, result: Range<Int>, isKnown: Bool)? {
        var end = bytes.count
        while end > 0, Self.isWhitespace(bytes[end - 1]) { end -= 1 }
        guard end > 0, bytes[end - 1] == UInt8(ascii: "}") else { return nil }
        if bytes.starts(with: self.idFirst) { return self.readSorted(bytes, end: end - 1, known: known) }
        guard bytes.starts(with: self.resultFirst) else { return nil }
        return self.readIDLast(bytes, end: end - 1, known: known)
    }

    /// `{"jsonrpc":"2.0","result":…,"id":N}`; `close` is the index of the final `}`.
    private static func readIDLast(_ bytes: [UInt8], end close: Int, known: [UInt8]?) -> (id: Int64, result: Range<Int>, isKnown: Bool)? {
        var digitsStart = close
        while digitsStart > 0, Self.isDigit(bytes[digitsStart - 1]) { digitsStart -= 1 }
        guard let id = Self.id(bytes, digitsStart..<close) else { return nil }
        let keyStart = digitsStart - self.idLast.count
        guard keyStart > self.resultFirst.count, bytes[keyStart..<digitsStart].elementsEqual(self.idLast) else { return nil }
        return self.result(bytes, from: self.resultFirst.count, before: keyStart, id: id, known: known)
    }

    /// `{"id":N,"jsonrpc":"2.0","result":…}`; `close` is the index of the final `}`.
    private static func readSorted(_ bytes: [UInt8], end close: Int, known: [UInt8]?) -> (id: Int64, result: Range<Int>, isKnown: Bool)? {
        let digitsStart = self.idFirst.count
        var digitsEnd = digitsStart
        while digitsEnd < close, Self.isDigit(bytes[digitsEnd]) { digitsEnd += 1 }
        guard let id = Self.id(bytes, digitsStart..<digitsEnd) else { return nil }
        let resultStart = digitsEnd + self.resultLast.count
        guard resultStart < close, bytes[digitsEnd..<resultStart].elementsEqual(self.resultLast) else { return nil }
        return self.result(bytes, from: resultStart, before: close, id: id, known: known)
    }

    /// Ids are this client's own counter: 1…18 digits, no leading zero.
    private static func id(_ bytes: [UInt8], _ digits: Range<Int>) -> Int64? {
        guard (1...18).contains(digits.count), digits.count == 1 || bytes[digits.lowerBound] != UInt8(ascii: "0") else { return nil }
        var id: Int64 = 0
        for digit in bytes[digits] { id = id * 10 + Int64(digit - UInt8(ascii: "0")) }
        return id
    }

    /// The result, which starts at `start` and must be one JSON value with nothing but
    /// whitespace between it and `limit` (the next member or the closing brace): no other member
    /// hides there, and an id inside the result is not taken for the frame's.
    private static func result(
        _ bytes: [UInt8], from start: Int, before limit: Int, id: Int64, known: [UInt8]?
    ) -> (id: Int64, result: Range<Int>, isKnown: Bool)? {
        // A value never ends in whitespace: equal to a validated value, these bytes are one.
        var valueEnd = limit
        while valueEnd > start, Self.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        if let known, Self.equal(bytes, start..<valueEnd, known) { return (id, start..<valueEnd, true) }
        guard let result = try? RawJSON.value(in: bytes, from: start), result.upperBound <= limit,
            bytes[result.upperBound..<limit].allSatisfy(Self.isWhitespace)
        else { return nil }
        return (id, result, false)
    }

    private static func equal(_ bytes: [UInt8], _ range: Range<Int>, _ known: [UInt8]) -> Bool {
        guard range.count == known.count else { return false }
        guard !known.isEmpty else { return true }
        return bytes.withUnsafeBytes { all in
            known.withUnsafeBytes { known in memcmp(all.baseAddress! + range.lowerBound, known.baseAddress!, known.count) == 0 }
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }
}
