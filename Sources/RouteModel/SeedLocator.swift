// Where a push finds its sender ("seed"), the address its primary binding follows.

/// A path from a positional parameter to the sender address, written in the spec as
/// `p0` (the param is the address), `p0.From`, `p0.Message.From`, `p0[0].From`, `p3`, …
public struct SeedLocator: Sendable, Hashable, CustomStringConvertible {
    /// One step into a JSON value.
    public enum Step: Sendable, Hashable {
        case field(String)
        case index(Int)
    }

    /// The zero-based position of the parameter the path starts from (below `ParamKinds.capacity`).
    public let param: Int
    /// The steps from that parameter to the sender address; empty when the parameter is the address itself.
    public let path: [Step]

    /// A locator starting at parameter `param` and following `path`.
    public init(param: Int, path: [Step] = []) {
        self.param = param
        self.path = path
    }

    /// Parses the spec syntax.
    ///
    /// - Throws: `SeedLocatorSyntaxError` saying what was expected where.
    public init(specText text: String) throws(SeedLocatorSyntaxError) {
        var rest = Substring(text)
        guard rest.first == "p" else {
            throw SeedLocatorSyntaxError(text: text, reason: "must start with p<position>, as in p0.From")
        }
        rest.removeFirst()
        let digits = rest.prefix(while: \.isASCIIDigit)
        guard let param = Int(digits), param < ParamKinds.capacity else {
            throw SeedLocatorSyntaxError(text: text, reason: "p must be followed by a param position 0…\(ParamKinds.capacity - 1)")
        }
        rest.removeFirst(digits.count)
        var path: [Step] = []
        while let first = rest.first {
            if first == "." {
                rest.removeFirst()
                let name = rest.prefix(while: { $0.isASCIILetterOrDigit })
                guard let head = name.first, head.isASCIILetter else {
                    throw SeedLocatorSyntaxError(text: text, reason: "expected a field name after '.'")
                }
                path.append(.field(String(name)))
                rest.removeFirst(name.count)
            } else if first == "[" {
                rest.removeFirst()
                let digits = rest.prefix(while: \.isASCIIDigit)
                guard let index = Int(digits), rest.dropFirst(digits.count).first == "]" else {
                    throw SeedLocatorSyntaxError(text: text, reason: "expected [<index>]")
                }
                path.append(.index(index))
                rest.removeFirst(digits.count + 1)
            } else {
                throw SeedLocatorSyntaxError(text: text, reason: "unexpected '\(first)'; expected .Field or [index]")
            }
        }
        self.init(param: param, path: path)
    }

    /// The spec syntax, such as `p0.Message.From` or `p0[0].From`; for a parsed locator, parsing this gives it back.
    public var description: String {
        var text = "p\(self.param)"
        for step in self.path {
            switch step {
            case .field(let name): text += "." + name
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}

/// A malformed seed locator, with what was expected.
public struct SeedLocatorSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rejected locator text, exactly as given.
    public let text: String
    /// What was expected where parsing stopped, e.g. "expected [<index>]".
    public let reason: String

    /// One line naming the bad locator and the reason.
    public var description: String { "bad seed locator '\(self.text)': \(self.reason)" }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self.isASCII && self.isNumber }
    fileprivate var isASCIILetter: Bool { self.isASCII && self.isLetter }
    fileprivate var isASCIILetterOrDigit: Bool { self.isASCIIDigit || self.isASCIILetter }
}
