// The generate/check pipeline over several spec files, shared by the CLI, plugin and tests.

import RouteModel

/// Parses every spec, checks them together, and renders one Swift file per spec.
public struct RouteTableGenerator: Sendable {
    /// One spec as the caller read it: the generator reads and writes no files itself.
    public struct SpecFile: Sendable {
        /// The path used in diagnostics.
        public let path: String
        /// The spec file's contents.
        public let text: String

        /// A spec read from `path` (named in diagnostics and, by its last component, the output file).
        public init(path: String, text: String) {
            self.path = path
            self.text = text
        }

        /// The last path component, which names the generated file.
        public var fileName: String {
            String(self.path.split(separator: "/").last ?? Substring(self.path))
        }
    }

    /// One generated Swift file, for the caller to write (`apigen` writes it only when its bytes changed).
    public struct Output: Sendable, Equatable {
        /// The file's name without a directory, e.g. `Routes_v1.swift` for `v1.spec`.
        public let fileName: String
        /// The whole Swift source; the same specs always give the same bytes.
        public let source: String
    }

    /// A generator; it holds no state, so one value may serve any number of runs.
    public init() {}

    /// Parses and validates; returns the documents or every diagnostic of every file.
    ///
    /// - Throws: `DiagnosticsError` when any file is malformed, or two files claim one API version.
    public func check(_ files: [SpecFile]) throws(DiagnosticsError) -> [SpecDocument] {
        var documents: [SpecDocument] = []
        var diagnostics: [Diagnostic] = []
        var fileOfVersion: [APIVersion: String] = [:]
        for file in files {
            do {
                let document = try SpecParser().parse(file.text, file: file.path)
                if let other = fileOfVersion[document.api] {
                    diagnostics.append(
                        Diagnostic(file: file.path, line: 0, message: "api \(document.api.rawValue) is already described by \(other)"))
                }
                fileOfVersion[document.api] = file.path
                documents.append(document)
            } catch {
                diagnostics += error.diagnostics
            }
        }
        guard diagnostics.isEmpty else { throw DiagnosticsError(diagnostics) }
        return documents
    }

    /// - Throws: `DiagnosticsError`; nothing is rendered unless every spec is valid.
    public func generate(_ files: [SpecFile]) throws(DiagnosticsError) -> [Output] {
        let documents = try self.check(files)
        return zip(files, documents).map { file, document in
            Output(
                fileName: SwiftRenderer.outputFileName(forSpec: file.fileName),
                source: SwiftRenderer().render(document, specFileName: file.fileName))
        }
    }
}
