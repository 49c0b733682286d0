// The common daemon answer, `{"jsonrpc":"2.0","result":…,"id":N}` exactly as go-jsonrpc writes
// it, read without the general frame parser: the result is still validated, but no member list
// or key strings are built for the frame every call gets back. A result byte-for-byte equal to
// one validated before (ChainHead, polled by every worker, answers the same tipset for a whole
// epoch) is recognised by comparison instead of a second walk.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum PlainAnswer {
    private static let prefix = Array(#"{"jsonrpc":"2.0","result":"#.utf8)
    private static let idKey = Array(#","id":"#.utf8)

    /// The id and the result's range (one well-formed JSON value), or nil for any other frame,
    /// which the general parser then reads. `isKnown`: the result's bytes are exactly `known`
    /// (a result validated earlier), so they were not walked again.
    static func read(_ bytes: [UInt8], known: [UInt8]? = nil) -> (id: Int64, result: Range<Int>, isKnown: Bool)? {
        guard bytes.count > self.prefix.count + self.idKey.count + 2, bytes.starts(with: self.prefix) else { return nil }
        var end = bytes.count
        while end > 0, Self.isWhitespace(bytes[end - 1]) { end -= 1 }
        guard end > 0, bytes[end - 1] == UInt8(ascii: "}") else { return nil }
        let digitsEnd = end - 1
        var digitsStart = digitsEnd
        while digitsStart > 0, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[digitsStart - 1]) { digitsStart -= 1 }
        let digits = digitsEnd - digitsStart
        // Ids are this client's own counter: 1…18 digits, no leading zero.
        guard (1...18).contains(digits), digits == 1 || bytes[digitsStart] != UInt8(ascii: "0") else { return nil }
        let keyStart = digitsStart - self.idKey.count
        guard keyStart > self.prefix.count, bytes[keyStart..<digitsStart].elementsEqual(self.idKey) else { return nil }
        var id: Int64 = 0
        for digit in bytes[digitsStart..<digitsEnd] { id = id * 10 + Int64(digit - UInt8(ascii: "0")) }
        // A value never ends in whitespace: equal to a validated value, these bytes are one.
        var valueEnd = keyStart
        while valueEnd > self.prefix.count, Self.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        if let known, Self.equal(bytes, self.prefix.count..<valueEnd, known) { return (id, self.prefix.count..<valueEnd, true) }
        // The result must end before the id, with nothing but whitespace between: no other
        // member hides there, and an id inside the result is not taken for the frame's.
        guard let result = try? RawJSON.value(in: bytes, from: self.prefix.count), result.upperBound <= keyStart,
            bytes[result.upperBound..<keyStart].allSatisfy(Self.isWhitespace)
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

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }
}
