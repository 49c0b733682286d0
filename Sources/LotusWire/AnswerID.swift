// The id of a go-jsonrpc answer read from its first or last bytes alone, for an answer too large
// to keep: go-jsonrpc wrote `{"jsonrpc":"2.0","result":…,"id":N}` before v0.3.2, and writes its
// keys sorted, `{"id":N,"jsonrpc":"2.0","result":…}`, since. Each form is matched anchored to
// the message's edge, so an `"id"` inside the result is never taken for the answer's.

enum AnswerID {
    /// N of `{"id":N,` at the start of `head`.
    static func leading(_ head: [UInt8]) -> Int64? {
        var scan = Scan(bytes: head[...])
        guard scan.take("{"), scan.take(#""id""#), scan.take(":") else { return nil }
        let id = scan.integer()
        return scan.take(",") ? id : nil
    }

    /// N of `,"id":N}` at the end of `tail` (whitespace allowed between tokens and after).
    static func trailing(_ tail: [UInt8]) -> Int64? {
        var scan = Scan(bytes: tail[...], backwards: true)
        guard scan.take("}") else { return nil }
        let id = scan.integer()
        return scan.take(":") && scan.take(#""id""#) && scan.take(",") ? id : nil
    }

    /// Tokens taken from one end of the bytes, whitespace between them skipped.
    private struct Scan {
        var bytes: ArraySlice<UInt8>
        var backwards = false

        private mutating func skipWhitespace() {
            let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
            if self.backwards {
                while let last = self.bytes.last, blank(last) { self.bytes.removeLast() }
            } else {
                while let first = self.bytes.first, blank(first) { self.bytes.removeFirst() }
            }
        }

        mutating func take(_ token: String) -> Bool {
            self.skipWhitespace()
            let token = Array(token.utf8)
            if self.backwards {
                guard self.bytes.count >= token.count, self.bytes.suffix(token.count).elementsEqual(token) else { return false }
                self.bytes.removeLast(token.count)
            } else {
                guard self.bytes.starts(with: token) else { return false }
                self.bytes.removeFirst(token.count)
            }
            return true
        }

        /// A decimal integer of up to 18 digits, optionally negative; nil (nothing taken) otherwise.
        mutating func integer() -> Int64? {
            self.skipWhitespace()
            let isDigit: (UInt8) -> Bool = { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            let digits: ArraySlice<UInt8>
            if self.backwards {
                var start = self.bytes.endIndex
                while start > self.bytes.startIndex, isDigit(self.bytes[start - 1]) { start -= 1 }
                if start > self.bytes.startIndex, start < self.bytes.endIndex, self.bytes[start - 1] == UInt8(ascii: "-") { start -= 1 }
                digits = self.bytes[start...]
            } else {
                let sign = self.bytes.first == UInt8(ascii: "-") ? 1 : 0
                let count = self.bytes.dropFirst(sign).prefix(while: isDigit).count
                digits = self.bytes.prefix(sign + count)
            }
            guard (1...19).contains(digits.count), let value = Int64(String(decoding: digits, as: UTF8.self)) else { return nil }
            if self.backwards { self.bytes.removeLast(digits.count) } else { self.bytes.removeFirst(digits.count) }
            return value
        }
    }
}
