// Reads the parts of Lotus's OpenRPC document (full.json) that routing needs.

import Foundation

/// Lotus's generated OpenRPC document: per method, the Go type and example of each parameter.
public struct OpenRPCDocument: Sendable {
    /// One parameter of a method, in the document's parameter order.
    public struct Param: Sendable, Hashable {
        /// The Go type, e.g. `types.TipSetKey` (OpenRPC's `description`).
        public let goType: String
        /// The first example of the parameter's schema; nil when it has none. The importer trusts the Go types
        /// only when these examples agree with the markdown's.
        public let example: JSONValue?
    }

    /// One method of the document. Channel methods are absent: the OpenRPC generator omits them.
    public struct Method: Sendable, Hashable {
        /// Without the `Filecoin.` prefix.
        public let name: String
        /// The parameters in call order.
        public let params: [Param]
        /// The Go result type, e.g. `*MessagePrototype`.
        public let resultType: String
    }

    /// The Lotus release the document describes, as `v1.36.1`.
    public let release: String
    /// The methods by name without the `Filecoin.` prefix; of two with the same name, the later one is kept.
    public let methods: [String: Method]

    /// - Throws: `DiagnosticsError` naming the file when it is not a Lotus OpenRPC document.
    public init(json data: Data, file: String) throws(DiagnosticsError) {
        let raw: RawDocument
        do {
            raw = try JSONDecoder().decode(RawDocument.self, from: data)
        } catch {
            throw DiagnosticsError([Diagnostic(file: file, line: 0, message: "not a Lotus OpenRPC document: \(error)")])
        }
        self.release = raw.info.version.hasPrefix("v") ? raw.info.version : "v" + raw.info.version
        var methods: [String: Method] = [:]
        for method in raw.methods {
            let name = method.name.hasPrefix("Filecoin.") ? String(method.name.dropFirst("Filecoin.".count)) : method.name
            methods[name] = Method(
                name: name,
                params: method.params.map { Param(goType: $0.description, example: $0.schema?.examples?.first) },
                resultType: method.result?.name ?? "")
        }
        self.methods = methods
    }

    private struct RawDocument: Decodable {
        struct Info: Decodable { let version: String }
        struct RawMethod: Decodable {
            let name: String
            let params: [RawParam]
            let result: RawResult?
        }
        struct RawParam: Decodable {
            let description: String
            let schema: Schema?
        }
        struct Schema: Decodable { let examples: [JSONValue]? }
        struct RawResult: Decodable { let name: String }
        let info: Info
        let methods: [RawMethod]
    }
}
