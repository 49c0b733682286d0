// Turns one input into a nearby one, as libFuzzer's and AFL's "havoc" stages do: a few stacked
// byte-level edits, tokens of the target's grammar, splices with other corpus entries, and
// deep nesting, so both the syntax checks and the limits get hit.

struct Mutator: Sendable {
    /// Grammar pieces the target cares about (`"`, `\u`, `method`, a WebSocket header …).
    let dictionary: [[UInt8]]
    /// Opening and closing pieces that nest (`[`/`]`, `{"k":`/`}`), repeated up to past the
    /// readers' depth limit.
    let nesting: [(open: [UInt8], close: [UInt8])]
    /// The readers' nesting limit, when they have one: nesting is then often sized to end
    /// right at it, counting the levels the input already has.
    let depthLimit: Int?
    /// Bytes that separate the grammar's parts (`,` `:` `]` `}` in JSON, spaces and `=` in a
    /// spec): cutting from one to the next drops a whole value or member, the edit that
    /// leaves a trailing comma, an empty field or a missing value behind.
    let delimiters: [UInt8]
    /// Inputs are cut to this length, so one input's cost stays bounded.
    let maxLength: Int

    /// Bytes that end, open or escape something in most formats, and the edges of a byte.
    static let interestingBytes: [UInt8] =
        Array(#""\[]{},:0-.eE+ntf/u"#.utf8) + [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0xBF, 0xC0, 0xFE, 0xFF]

    /// Big-endian edges of lengths and counts: WebSocket's 7-bit, 16-bit and 64-bit lengths
    /// and the values just past each.
    static let interestingIntegers: [UInt64] = [
        0, 1, 2, 124, 125, 126, 127, 128, 255, 256, 0x7FFF, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x1_0000_0000,
        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF,
    ]

    /// `input` with 1 to 5 stacked edits; `corpus` supplies splice partners.
    func mutate(_ input: [UInt8], corpus: [[UInt8]], random: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0...random.below(5) {
            self.edit(&bytes, corpus: corpus, random: &random)
        }
        if bytes.count > self.maxLength { bytes.removeLast(bytes.count - self.maxLength) }
        return bytes
    }

    /// The most levels open anywhere in `bytes`, counted by the nesting pieces' first and last
    /// bytes (`[` `{` against `]` `}`); brackets inside strings count too: near enough to aim at a limit.
    private func deepestLevel(_ bytes: [UInt8]) -> Int {
        let opens = Set(self.nesting.compactMap(\.open.first))
        let closes = Set(self.nesting.compactMap(\.close.last))
        var level = 0
        var deepest = 0
        for byte in bytes {
            if opens.contains(byte) {
                level += 1
                deepest = max(deepest, level)
            } else if closes.contains(byte) {
                level = max(0, level - 1)
            }
        }
        return deepest
    }

    private func edit(_ bytes: inout [UInt8], corpus: [[UInt8]], random: inout SplitMix64) {
        let position = random.below(bytes.count + 1)
        let inside = bytes.isEmpty ? nil : min(position, bytes.count - 1)
        switch random.below(15) {
        case 0:
            guard let inside else { return }
            bytes[inside] ^= 1 << UInt8(random.below(8))
        case 1:
            guard let inside else { return }
            bytes[inside] = UInt8(truncatingIfNeeded: random.next())
        case 2:
            guard let inside else { return }
            bytes[inside] = random.pick(Self.interestingBytes)
        case 3:
            bytes.insert(random.oneIn(2) ? random.pick(Self.interestingBytes) : UInt8(truncatingIfNeeded: random.next()), at: position)
        case 4:
            guard let inside else { return }
            bytes.removeSubrange(inside..<min(bytes.count, inside + 1 + random.below(random.oneIn(4) ? 64 : 4)))
        case 5:
            // A stretch repeated in place (duplicated members, repeated frames).
            guard let inside else { return }
            let chunk = Array(bytes[inside..<min(bytes.count, inside + 1 + random.below(32))])
            bytes.insert(contentsOf: chunk, at: random.below(bytes.count + 1))
        case 6, 7:
            guard !self.dictionary.isEmpty else { return }
            let token = random.pick(self.dictionary)
            if random.oneIn(2) || inside == nil {
                bytes.insert(contentsOf: token, at: position)
            } else if let inside {
                bytes.replaceSubrange(inside..<min(bytes.count, inside + token.count), with: token)
            }
        case 8:
            // Splice: this input's head with another entry's tail.
            let other = random.pick(corpus)
            guard !other.isEmpty else { return }
            bytes = Array(bytes[..<position]) + other[random.below(other.count)...]
        case 9:
            bytes.removeSubrange(position...)
        case 10:
            guard let inside else { return }
            let value = random.pick(Self.interestingIntegers) &+ UInt64(bitPattern: Int64(random.below(3) - 1))
            let width = random.pick([1, 2, 8])
            let encoded = (0..<width).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
            bytes.replaceSubrange(inside..<min(bytes.count, inside + width), with: encoded)
        case 11:
            guard !self.nesting.isEmpty else { return }
            let (open, close) = random.pick(self.nesting)
            if let limit = self.depthLimit, random.oneIn(2) {
                // The whole input wrapped: a valid document stays valid, now as deep as the
                // limit, give or take one level.
                let depth = max(1, limit - self.deepestLevel(bytes) - 2 + random.below(4))
                bytes =
                    Array([[UInt8]](repeating: open, count: depth).joined()) + bytes
                    + Array([[UInt8]](repeating: close, count: depth).joined())
            } else {
                let depth = 1 + random.below(8)
                let end = position + random.below(bytes.count - position + 1)
                bytes.insert(contentsOf: Array([[UInt8]](repeating: close, count: depth).joined()), at: end)
                bytes.insert(contentsOf: Array([[UInt8]](repeating: open, count: depth).joined()), at: position)
            }
        case 12:
            // A stretch swapped with the one after it.
            guard bytes.count >= 2 else { return }
            let length = 1 + random.below(min(16, bytes.count / 2))
            let start = random.below(bytes.count - 2 * length + 1)
            let first = Array(bytes[start..<start + length])
            bytes.replaceSubrange(start..<start + length, with: bytes[start + length..<start + 2 * length])
            bytes.replaceSubrange(start + length..<start + 2 * length, with: first)
        case 13:
            let delimiters = bytes.indices.filter { self.delimiters.contains(bytes[$0]) }
            guard delimiters.count >= 2 else { return }
            let from = random.below(delimiters.count - 1)
            let to = min(delimiters.count - 1, from + 1 + (random.oneIn(4) ? random.below(4) : 0))
            // Keep the first delimiter (`[1,2]` → `[1,]`) or the second (→ `[1]`).
            bytes.removeSubrange((delimiters[from] + (random.oneIn(2) ? 1 : 0))..<delimiters[to])
        default:
            // A long run of one byte: long strings and payloads take the reader's 8-byte paths.
            let byte = random.oneIn(2) ? UInt8(ascii: "a") : random.pick(Self.interestingBytes)
            bytes.insert(contentsOf: repeatElement(byte, count: 1 + random.below(300)), at: position)
        }
    }
}
