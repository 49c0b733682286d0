// What the fuzzer needs to know about one reader: valid inputs to start from, how to mutate
// them, and the properties every input must keep.

/// One reader under test.
struct FuzzTarget: Sendable {
    let name: String
    /// Valid inputs (real frames, real spec lines) the mutations start from.
    let seeds: [[UInt8]]
    let mutator: Mutator
    /// Inputs per CI run: about two seconds' worth in a debug build.
    let ciIterations: Int
    /// Checks one input. Returns a short signature of what the reader did (accepted as what,
    /// refused for which reason): an input with a signature not seen before joins the corpus,
    /// the feedback that stands in for coverage. Throws when a property is broken.
    let check: @Sendable ([UInt8]) throws(FuzzFailure) -> String
}

/// A broken property: what was expected and what happened.
struct FuzzFailure: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// Fails with `message` unless `condition` holds.
    static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzFailure) {
        if !condition { throw FuzzFailure(message()) }
    }
}

extension Collection<UInt8> {
    /// Lowercase hex, two digits a byte: how failing inputs are printed and kept.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(self.count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Array<UInt8> {
    /// The bytes of a hex string (as `hex` prints them); nil when it is not one.
    init?(hex text: String) {
        let digits = Array(text.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let pair = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(pair)
        }
        self = bytes
    }
}

/// A reason with its variable parts (quoted text, numbers) left out, for signatures.
func reasonKind(_ reason: String) -> String {
    var kept = ""
    var quoted = false
    for character in reason.prefix(60) {
        if character == "'" {
            quoted.toggle()
        } else if !quoted && !character.isNumber {
            kept.append(character)
        }
    }
    return kept
}
