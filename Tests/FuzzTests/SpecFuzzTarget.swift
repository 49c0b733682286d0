// The api-spec parser under fuzz: any text gives a document or diagnostics on real lines,
// never a trap, and a document it accepts survives the writer and the Swift renderer.

import APIGenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum SpecFuzzTarget {
    static let target = FuzzTarget(
        name: "spec",
        seeds: Self.seeds,
        mutator: Mutator(
            dictionary: Self.tokens, nesting: [(Array("(".utf8), Array(")".utf8))], depthLimit: nil, delimiters: Array(" =(),.\n".utf8),
            maxLength: 16 << 10),
        ciIterations: 1500,
        check: Self.check)

    static func check(_ bytes: [UInt8]) throws(FuzzFailure) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        let document: SpecDocument
        do {
            document = try SpecParser().parse(text, file: "fuzz.spec")
        } catch {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            try FuzzFailure.require(!error.diagnostics.isEmpty, "refused with no diagnostic")
            for diagnostic in error.diagnostics {
                try FuzzFailure.require((0...lines).contains(diagnostic.line), "a diagnostic on line \(diagnostic.line) of \(lines)")
            }
            // A method's name starts most messages: left out, so each kind counts once.
            let first = error.diagnostics[0].message.split(separator: ": ", maxSplits: 1).last.map(String.init) ?? ""
            return "refused: \(reasonKind(first))"
        }
        let written = SpecWriter().render(document)
        let reparsed: SpecDocument
        do {
            reparsed = try SpecParser().parse(written, file: "written.spec")
        } catch {
            throw FuzzFailure("the writer's canonical text does not parse: \(error)")
        }
        try FuzzFailure.require(
            reparsed.api == document.api && reparsed.lotusRelease == document.lotusRelease
                && reparsed.headerComments == document.headerComments,
            "written and read back, the header changed")
        let before = document.methods.sorted { $0.name < $1.name }
        try FuzzFailure.require(
            reparsed.methods.count == before.count
                && zip(reparsed.methods, before).allSatisfy { $0.entry == $1.entry && $0.comments == $1.comments },
            "written and read back, a method changed")
        try FuzzFailure.require(SpecWriter().render(reparsed) == written, "the canonical text is not a fixed point")
        _ = SwiftRenderer().render(document, specFileName: "fuzz.spec")
        return "parsed: \(min(document.methods.count, 4)) methods\(document.methods.contains { $0.entry.seed != nil } ? ", seed" : "")"
    }

    /// The shipped specs cut into pieces: the header, then five methods (with their comments)
    /// at a time, and the test fixture whole.
    static let seeds: [[UInt8]] = {
        let root = String(#filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/"))
        var seeds: [[UInt8]] = []
        for file in ["Sources/GeneratedRoutes/api-spec/v0.spec", "Sources/GeneratedRoutes/api-spec/v1.spec"] {
            guard let text = Self.contents(of: root + "/" + file) else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard let lotus = lines.firstIndex(where: { $0.hasPrefix("lotus ") }) else { continue }
            let header = lines[...lotus].joined(separator: "\n") + "\n\n"
            var blocks: [String] = []
            var pending = ""
            for line in lines[(lotus + 1)...] where !line.isEmpty {
                pending += line + "\n"
                if !line.hasPrefix("#") {
                    blocks.append(pending)
                    pending = ""
                }
            }
            for start in stride(from: 0, to: blocks.count, by: 5) {
                seeds.append(Array((header + blocks[start..<min(blocks.count, start + 5)].joined()).utf8))
            }
        }
        if let small = Self.contents(of: root + "/Tests/APIGenCoreTests/Fixtures/small.spec") { seeds.append(Array(small.utf8)) }
        return seeds
    }()

    private static func contents(of path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The spec's words, and characters Unicode calls spaces, digits or letters that are not ASCII.
    static let tokens: [[UInt8]] = [
        "api v1\n", "api v0\n", "lotus v1.36.1\n", "\n", "# ", "#", " ", "\t", "\r\n", "=", "cat=chain", "perm=read", "perm=admin",
        "effect=write", "result=channel", "policy=default", "policy=OneByIdRound", "filter=sealing", "nohang=true", "timeout=",
        "1m30s", "1.5s", "500ms", "0", "99999999999h", "1e9h", ".", "params=(", ")", ",", "Address", "TipSetKey", "Epoch", "Message",
        "Other", "seed=p0", "seed=p0.Message.From", "seed=p1[0].From", "[99999999999999999999]", "p15", "removed=v1.2.3",
        "v99999999999999999999.0.0", "ChainHead ", "Zz9 ", "\u{A0}", "\u{2028}", "\u{0B}", "\u{FEFF}", "\u{301}", "٣", "Ⅻ", "é",
    ].map { Array($0.utf8) }
}
