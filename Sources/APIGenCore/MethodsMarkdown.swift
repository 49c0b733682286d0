// Reads Lotus's generated methods markdown (api-methods-*.md): permission and examples per method.

import RouteModel

/// The methods section of a Lotus API markdown document.
///
/// Each method is a `### Name` heading followed by `Perms: <perm>`, `Inputs:` (`null` or a
/// JSON block with one example per parameter) and `Response:`. Headings that are not method
/// names (prose sections such as "Execution model reconciliation") are skipped.
public struct MethodsMarkdown: Sendable {
    /// One `### Name` section of the markdown.
    public struct Method: Sendable, Hashable {
        /// The method's name as its heading gives it (`ChainHead`, no `Filecoin.` prefix).
        public let name: String
        /// The 1-based line of the `### Name` heading, for diagnostics.
        public let line: Int
        /// nil when the document leaves the `Perms:` line empty.
        public let perm: Perm?
        /// One example per parameter, in order; empty for `Inputs: null`.
        public let inputs: [JSONValue]
        /// The `Response:` example; nil when the section has no `Response:` line.
        public let response: JSONValue?
    }

    /// Every method section in document order; a repeated heading appears twice (the importer keeps the first).
    public let methods: [Method]

    /// - Throws: `DiagnosticsError` with the line of each method section that cannot be read.
    public init(text: String, file: String) throws(DiagnosticsError) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var methods: [Method] = []
        var diagnostics: [Diagnostic] = []
        var index = 0
        while index < lines.count {
            guard lines[index].hasPrefix("### ") else {
                index += 1
                continue
            }
            let heading = lines[index].dropFirst(4).trimmingWhitespace()
            let headingLine = index + 1
            var end = index + 1
            while end < lines.count && !lines[end].hasPrefix("#") { end += 1 }
            let body = Array(lines[(index + 1)..<end])
            index = end
            guard isMethodName(String(heading)) else { continue }
            do {
                methods.append(try Self.readSection(name: String(heading), line: headingLine, body: body))
            } catch {
                diagnostics.append(Diagnostic(file: file, line: headingLine, message: "\(heading): \(error)"))
            }
        }
        if methods.isEmpty && diagnostics.isEmpty {
            diagnostics.append(
                Diagnostic(file: file, line: 0, message: "no '### Method' sections found; is this a Lotus methods markdown?"))
        }
        guard diagnostics.isEmpty else { throw DiagnosticsError(diagnostics) }
        self.methods = methods
    }

    private static func readSection(name: String, line: Int, body: [Substring]) throws -> Method {
        guard let permLine = body.first(where: { $0.hasPrefix("Perms:") }) else {
            throw SpecValueError("no 'Perms:' line")
        }
        let permWord = permLine.dropFirst("Perms:".count).trimmingWhitespace()
        let perm: Perm? = permWord.isEmpty ? nil : try Perm.parse(permWord)
        guard let inputs = try example(after: "Inputs:", in: body) else {
            throw SpecValueError("no 'Inputs:' example")
        }
        let params: [JSONValue]
        switch inputs {
        case .null: params = []
        case .array(let items): params = items
        default: throw SpecValueError("'Inputs:' example is not a JSON array")
        }
        return Method(name: name, line: line, perm: perm, inputs: params, response: try example(after: "Response:", in: body))
    }

    /// The JSON after `label`: inline in backticks (`` `null` ``) or in the ```json block below.
    private static func example(after label: String, in body: [Substring]) throws -> JSONValue? {
        guard let start = body.firstIndex(where: { $0.hasPrefix(label) }) else { return nil }
        let inline = body[start].dropFirst(label.count).trimmingWhitespace()
        if inline.hasPrefix("`") && inline.hasSuffix("`") && inline.count >= 2 {
            return try JSONValue.parse(String(inline.dropFirst().dropLast()))
        }
        guard let open = body[start...].firstIndex(where: { $0.hasPrefix("```json") }),
            let close = body[(open + 1)...].firstIndex(where: { $0.hasPrefix("```") })
        else {
            throw SpecValueError("'\(label)' has neither an inline example nor a ```json block")
        }
        return try JSONValue.parse(body[(open + 1)..<close].joined(separator: "\n"))
    }
}
