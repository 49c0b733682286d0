// Reads an api-spec file into a SpecDocument, reporting every malformed line by number.

@_spi(Generated) import RouteModel

/// Parses the api-spec text format (documented in api-spec/README.md).
///
/// A spec with any error produces no document: the parser collects every diagnostic and
/// throws them together, so a generator run never emits half a table.
public struct SpecParser: Sendable {
    /// The fields every method line must carry, in the order the writer prints them.
    public static let requiredFields = ["cat", "perm", "params", "result", "policy", "filter", "nohang", "timeout", "effect"]
    /// The fields a method line may add after the required ones: `seed` (where the sender is), `removed`
    /// (the release that stopped serving it), `added` (the release that first served it) and `cache`
    /// (`content` or `tipset`: whether its answers may be cached; absent, `none`).
    public static let optionalFields = ["seed", "removed", "added", "cache"]

    /// A parser; it holds no state, so one value may parse any number of files.
    public init() {}

    /// - Parameters:
    ///   - text: the spec file's contents.
    ///   - file: the path used in diagnostics.
    /// - Throws: `DiagnosticsError` with one `file:line` diagnostic per problem.
    public func parse(_ text: String, file: String) throws(DiagnosticsError) -> SpecDocument {
        var state = ParseState(file: file)
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            state.consume(line: rawLine, number: index + 1)
        }
        return try state.finish()
    }
}

/// The parser's running state over one file.
private struct ParseState {
    let file: String
    var api: APIVersion?
    var lotusRelease: String?
    var headerComments: [String] = []
    var pendingComments: [String] = []
    var methods: [SpecMethod] = []
    var firstLineOfMethod: [String: Int] = [:]
    var diagnostics: [Diagnostic] = []

    init(file: String) {
        self.file = file
    }

    mutating func error(_ line: Int, _ message: String) {
        self.diagnostics.append(Diagnostic(file: self.file, line: line, message: message))
    }

    mutating func consume(line rawLine: Substring, number: Int) {
        let line = rawLine.trimmingWhitespace()
        if line.isEmpty {
            // A blank line ends the file's header comment block.
            if self.api == nil && self.methods.isEmpty && !self.pendingComments.isEmpty {
                self.headerComments += self.pendingComments
                self.pendingComments = []
            }
            return
        }
        if line.hasPrefix("#") {
            var comment = line.dropFirst()
            if comment.first == " " { comment = comment.dropFirst() }
            self.pendingComments.append(String(comment))
            return
        }
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        switch words[0] {
        case "api": self.parseAPIHeader(words, line: number)
        case "lotus": self.parseLotusHeader(words, line: number)
        default: self.parseMethod(words, line: number)
        }
    }

    mutating func parseAPIHeader(_ words: [Substring], line: Int) {
        self.headerComments += self.pendingComments
        self.pendingComments = []
        guard words.count == 2 else {
            return self.error(line, "expected 'api <version>', e.g. 'api v1'")
        }
        guard self.api == nil else { return self.error(line, "duplicate 'api' header") }
        guard self.methods.isEmpty else { return self.error(line, "'api' header must come before the first method") }
        do {
            self.api = try APIVersion.parse(words[1])
        } catch {
            self.error(line, error.description)
        }
    }

    mutating func parseLotusHeader(_ words: [Substring], line: Int) {
        self.headerComments += self.pendingComments
        self.pendingComments = []
        guard words.count == 2, isLotusRelease(words[1]) else {
            return self.error(line, "expected 'lotus v<major>.<minor>.<patch>', e.g. 'lotus v1.36.1'")
        }
        guard self.lotusRelease == nil else { return self.error(line, "duplicate 'lotus' header") }
        guard self.methods.isEmpty else { return self.error(line, "'lotus' header must come before the first method") }
        self.lotusRelease = String(words[1])
    }

    mutating func parseMethod(_ words: [Substring], line: Int) {
        let comments = self.pendingComments
        self.pendingComments = []
        let name = String(words[0])
        guard isMethodName(name) else {
            return self.error(line, "expected a method name (letters and digits, starting with a capital), found '\(name)'")
        }
        if let first = self.firstLineOfMethod[name] {
            return self.error(line, "duplicate method '\(name)' (first defined at line \(first))")
        }
        self.firstLineOfMethod[name] = line
        var fields: [String: Substring] = [:]
        let known = SpecParser.requiredFields + SpecParser.optionalFields
        var lineOK = true
        for word in words.dropFirst() {
            guard let equals = word.firstIndex(of: "=") else {
                self.error(line, "\(name): expected key=value, found '\(word)'")
                lineOK = false
                continue
            }
            let key = String(word[..<equals])
            let value = word[word.index(after: equals)...]
            guard known.contains(key) else {
                self.error(line, "\(name): unknown field '\(key)'; expected one of: \(known.joined(separator: ", "))")
                lineOK = false
                continue
            }
            guard fields[key] == nil else {
                self.error(line, "\(name): field '\(key)' given twice")
                lineOK = false
                continue
            }
            fields[key] = value
        }
        for key in SpecParser.requiredFields where fields[key] == nil {
            self.error(line, "\(name): missing field '\(key)'")
            lineOK = false
        }
        guard lineOK else { return }
        var added: String?
        if let text = fields["added"] {
            guard isLotusRelease(text) else {
                return self.error(line, "\(name): field 'added': expected a Lotus release such as v1.36.1, found '\(text)'")
            }
            added = String(text)
        }
        if let entry = self.buildEntry(name: name, fields: fields, line: line) {
            self.methods.append(SpecMethod(entry: entry, comments: comments, line: line, addedIn: added))
        }
    }

    /// Turns validated-present fields into a RouteEntry, reporting each bad value.
    mutating func buildEntry(name: String, fields: [String: Substring], line: Int) -> RouteEntry? {
        func field<T>(_ key: String, _ parse: (Substring) throws -> T) -> T? {
            guard let text = fields[key] else { return nil }
            do {
                return try parse(text)
            } catch {
                self.error(line, "\(name): field '\(key)': \(error)")
                return nil
            }
        }
        let category = field("cat") { try Category.parse($0) }
        let perm = field("perm") { try Perm.parse($0) }
        let params = field("params") { try parseParams($0) }
        let result = field("result") { try ResultKind.parse($0) }
        let policy = field("policy") { try PolicyChoice(specWord: $0) }
        let filter = field("filter") { try Filter.parse($0) }
        let nohang = field("nohang") { try parseBool($0) }
        let timeout = field("timeout") { try GoDuration(parsing: $0) }
        let effect = field("effect") { try Effect.parse($0) }
        let seed = field("seed") { try SeedLocator(specText: String($0)) }
        let cache = field("cache") { try CacheClass.parse($0) }
        let removed = field("removed") { text throws(SpecValueError) -> String in
            guard isLotusRelease(text) else {
                throw SpecValueError("expected a Lotus release such as v1.36.1, found '\(text)'")
            }
            return String(text)
        }
        guard let category, let perm, let params, let result, let policy, let filter, let nohang,
            let timeout, let effect
        else { return nil }
        if fields["seed"] != nil && seed == nil { return nil }
        if fields["removed"] != nil && removed == nil { return nil }
        if fields["cache"] != nil && cache == nil { return nil }
        if let cache, cache != .none {
            // Only an idempotent answer given once may be served again.
            guard effect == .read, result == .plain else {
                self.error(line, "\(name): cache=\(cache) needs effect=read and result=plain, found effect=\(effect) result=\(result)")
                return nil
            }
            guard cache != .tipset || params.contains(.tipSetKey) else {
                self.error(
                    line, "\(name): cache=tipset needs a TipSetKey param (the tipset the answer is fixed by), found params=\(params)")
                return nil
            }
        }
        if let seed {
            guard seed.param < params.count else {
                self.error(line, "\(name): seed '\(seed)' names param \(seed.param), but the method has \(params.count) params")
                return nil
            }
            if seed.path.isEmpty && params[seed.param] != .address {
                self.error(line, "\(name): seed '\(seed)' must name an Address param, but param \(seed.param) is \(params[seed.param])")
                return nil
            }
        }
        return RouteEntry(
            name: name, category: category, perm: perm, params: params, result: result, policy: policy,
            filter: filter, nohang: nohang, timeout: timeout, effect: effect, seed: seed, removedIn: removed, cache: cache ?? .none)
    }

    mutating func finish() throws(DiagnosticsError) -> SpecDocument {
        if self.api == nil {
            self.error(1, "missing 'api <version>' header (e.g. 'api v1')")
        }
        if self.lotusRelease == nil {
            self.error(1, "missing 'lotus <release>' header (e.g. 'lotus v1.36.1')")
        }
        if self.methods.isEmpty && self.diagnostics.isEmpty {
            self.error(1, "the spec defines no methods")
        }
        guard self.diagnostics.isEmpty, let api = self.api, let lotusRelease = self.lotusRelease else {
            throw DiagnosticsError(self.diagnostics)
        }
        return SpecDocument(api: api, lotusRelease: lotusRelease, headerComments: self.headerComments, methods: self.methods)
    }
}

/// A field value that does not parse; the message says what was expected.
struct SpecValueError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Parses `()` or `(Address,TipSetKey)`.
func parseParams(_ text: Substring) throws -> ParamKinds {
    guard text.first == "(", text.last == ")" else {
        throw SpecValueError("expected a parenthesised list such as (Address,TipSetKey) or (), found '\(text)'")
    }
    let inner = text.dropFirst().dropLast()
    if inner.isEmpty { return ParamKinds([]) }
    let kinds = try inner.split(separator: ",", omittingEmptySubsequences: false).map { try ParamKind.parse($0) }
    guard kinds.count <= ParamKinds.capacity else {
        throw SpecValueError("at most \(ParamKinds.capacity) params are supported, found \(kinds.count)")
    }
    return ParamKinds(kinds)
}

func parseBool(_ text: Substring) throws(SpecValueError) -> Bool {
    switch text {
    case "true": return true
    case "false": return false
    default: throw SpecValueError("expected true or false, found '\(text)'")
    }
}

/// `v1.36.1`-shaped release names.
func isLotusRelease(_ text: Substring) -> Bool {
    guard text.first == "v" else { return false }
    let parts = text.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }
}

/// Lotus method names: an ASCII capital, then letters and digits.
func isMethodName(_ text: String) -> Bool {
    guard let first = text.first, first.isASCII, first.isUppercase else { return false }
    return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
}

extension Character {
    var isASCIIDigit: Bool { self.isASCII && self.isNumber }
}

extension StringProtocol {
    func trimmingWhitespace() -> SubSequence {
        let start = self.firstIndex(where: { !$0.isWhitespace }) ?? self.endIndex
        let end = self.lastIndex(where: { !$0.isWhitespace }).map { self.index(after: $0) } ?? start
        return self[start..<Swift.max(start, end)]
    }
}
