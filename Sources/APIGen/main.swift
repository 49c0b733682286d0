// apigen: the route-table compiler's command line (import | diff | generate | check).
// All logic lives in APIGenCore; this file reads arguments and files and prints diagnostics.

import APIGenCore
import Foundation
import RouteModel

let usage = """
    usage:
      apigen import --openrpc <full.json> --methods <methods.md> [--api v0|v1] [--base <spec>] [--strict] --output <spec or dir/>
      apigen diff [--json] <old.spec> <new.spec>
      apigen bump --lotus <release docs dir> [--spec-dir api-spec] [--api v0|v1] [--strict]
      apigen generate --output-dir <dir> <spec>...
      apigen check <spec>...
    """

/// A failure already explained on stderr.
struct ExitFailure: Error {}

func fail(_ message: String) -> ExitFailure {
    FileHandle.standardError.write(Data("apigen: \(message)\n".utf8))
    return ExitFailure()
}

func report(_ error: DiagnosticsError) -> ExitFailure {
    FileHandle.standardError.write(Data((error.description + "\n").utf8))
    return ExitFailure()
}

/// A file's bytes, or a one-line error naming it and why it cannot be read.
func readData(_ path: String) throws -> Data {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw fail("cannot read \(path): no such file") }
    guard !isDirectory.boolValue else { throw fail("cannot read \(path): a directory, expected a file") }
    guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read \(path): permission denied") }
    return data
}

func readText(_ path: String) throws -> String {
    let data = try readData(path)
    guard let text = String(data: data, encoding: .utf8) else { throw fail("\(path) is not UTF-8 text") }
    return text
}

/// Writes `text` only when it differs from what is there, so unchanged specs do not
/// make SwiftPM recompile the generated table.
func writeIfChanged(_ text: String, to path: String) throws {
    let data = Data(text.utf8)
    if FileManager.default.contents(atPath: path) == data { return }
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw fail("cannot write \(path): \(error.localizedDescription)")
    }
}

/// Splits `--key value` / `--key=value` options from positional arguments.
func options(_ arguments: ArraySlice<String>, allowed: Set<String>) throws -> (named: [String: String], positional: [String]) {
    var named: [String: String] = [:]
    var positional: [String] = []
    var rest = arguments[...]
    while let argument = rest.popFirst() {
        guard argument.hasPrefix("--") else {
            positional.append(argument)
            continue
        }
        var key = String(argument.dropFirst(2))
        var value: String
        if let equals = key.firstIndex(of: "=") {
            value = String(key[key.index(after: equals)...])
            key = String(key[..<equals])
        } else {
            guard let next = rest.popFirst() else { throw fail("--\(key) needs a value\n\(usage)") }
            value = next
        }
        guard allowed.contains(key) else { throw fail("unknown option --\(key)\n\(usage)") }
        named[key] = value
    }
    return (named, positional)
}

/// `--output`: a spec file, or a directory (an existing one, or a path ending in `/`) in which
/// the spec is written as `<api>.spec`, as `api-spec/` holds them.
func specOutputPath(_ output: String, api: APIVersion) throws -> String {
    var isDirectory: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory)
    guard (exists && isDirectory.boolValue) || output.hasSuffix("/") else { return output }
    do {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    } catch {
        throw fail("cannot create the output directory \(output): \(error.localizedDescription)")
    }
    return (output.hasSuffix("/") ? output : output + "/") + "\(api.rawValue).spec"
}

func runImport(_ arguments: ArraySlice<String>) throws {
    // --strict (for CI): anything the import had to infer is an error, and nothing is written.
    let strict = arguments.contains("--strict")
    let (named, positional) = try options(
        ArraySlice(arguments.filter { $0 != "--strict" }), allowed: ["openrpc", "methods", "api", "base", "output"])
    guard positional.isEmpty, let openRPCPath = named["openrpc"], let methodsPath = named["methods"], let output = named["output"] else {
        throw fail("import needs --openrpc, --methods and --output\n\(usage)")
    }
    let api: APIVersion
    do {
        api = try APIVersion.parse(named["api"] ?? "v1")
    } catch {
        throw fail("--api: \(error)")
    }
    do {
        let json = try readData(openRPCPath)
        let openRPC = try OpenRPCDocument(json: json, file: openRPCPath)
        let markdown = try MethodsMarkdown(text: try readText(methodsPath), file: methodsPath)
        let base = try named["base"].map { path in try SpecParser().parse(try readText(path), file: path) }
        let result = try LotusImporter(openRPC: openRPC, markdown: markdown, markdownFile: methodsPath, api: api, base: base).run()
        for line in result.review {
            FileHandle.standardError.write(Data("\(strict ? "error" : "review"): \(line)\n".utf8))
        }
        if strict && !result.review.isEmpty {
            throw fail("--strict: \(result.review.count) item(s) for review; nothing written")
        }
        let path = try specOutputPath(output, api: api)
        try writeIfChanged(SpecWriter().render(result.document), to: path)
        print(
            "wrote \(path): \(result.document.methods.count) methods (Lotus \(result.document.lotusRelease), api \(api.rawValue)), \(result.review.count) for review"
        )
    } catch let error as DiagnosticsError {
        throw report(error)
    }
}

func runDiff(_ arguments: ArraySlice<String>) throws {
    let json = arguments.contains("--json")
    let paths = arguments.filter { $0 != "--json" }
    guard paths.count == 2 else { throw fail("diff needs two spec files\n\(usage)") }
    do {
        let old = try SpecParser().parse(try readText(paths[0]), file: paths[0])
        let new = try SpecParser().parse(try readText(paths[1]), file: paths[1])
        // A v0 spec against a v1 one would list every signature v0 keeps as a change.
        guard old.api == new.api else {
            throw fail(
                "diff compares two specs of one API version: \(paths[0]) is api \(old.api.rawValue), \(paths[1]) is api \(new.api.rawValue)"
            )
        }
        let diff = SpecDiff(old: old, new: new)
        let (oldLabel, newLabel) = ("\(paths[0]) (Lotus \(old.lotusRelease))", "\(paths[1]) (Lotus \(new.lotusRelease))")
        print(
            json ? diff.json(oldLabel: oldLabel, newLabel: newLabel) : diff.report(oldLabel: oldLabel, newLabel: newLabel), terminator: "")
    } catch let error as DiagnosticsError {
        throw report(error)
    }
}

/// A Lotus bump in one command: for each API version, import the release's documents onto the
/// current spec (`--base`), print the review lines and the diff, and write the spec in place.
func runBump(_ arguments: ArraySlice<String>) throws {
    let strict = arguments.contains("--strict")
    let (named, positional) = try options(ArraySlice(arguments.filter { $0 != "--strict" }), allowed: ["lotus", "spec-dir", "api"])
    guard positional.isEmpty, let lotus = named["lotus"] else { throw fail("bump needs --lotus <release docs dir>\n\(usage)") }
    let specDirectory = named["spec-dir"] ?? "api-spec"
    let apis: [APIVersion]
    do {
        apis = try named["api"].map { [try APIVersion.parse($0)] } ?? [.v1, .v0]
    } catch {
        throw fail("--api: \(error)")
    }
    let files = Set((try? FileManager.default.contentsOfDirectory(atPath: lotus)) ?? [])
    guard !files.isEmpty else {
        throw fail("cannot read \(lotus): expected a directory with a Lotus release's \(LotusDocsLayout.openRPC) and methods markdown")
    }
    var staged: [(path: String, text: String)] = []
    do {
        let openRPCPath = lotus + "/" + LotusDocsLayout.openRPC
        let openRPC = try OpenRPCDocument(json: try readData(openRPCPath), file: openRPCPath)
        for api in apis {
            guard let name = LotusDocsLayout.markdown(for: api, in: files) else {
                throw fail(
                    "no \(api.rawValue) methods markdown in \(lotus): expected one of \(LotusDocsLayout.markdownNames(for: api).joined(separator: ", "))"
                )
            }
            let markdownPath = lotus + "/" + name
            let specPath = specDirectory + "/\(api.rawValue).spec"
            let base = try SpecParser().parse(try readText(specPath), file: specPath)
            let markdown = try MethodsMarkdown(text: try readText(markdownPath), file: markdownPath)
            let result = try LotusImporter(openRPC: openRPC, markdown: markdown, markdownFile: markdownPath, api: api, base: base).run()
            for line in result.review {
                FileHandle.standardError.write(Data("\(strict ? "error" : "review"): \(line)\n".utf8))
            }
            if strict && !result.review.isEmpty {
                throw fail("--strict: \(result.review.count) item(s) for review in \(api.rawValue); nothing written")
            }
            print(
                SpecDiff(old: base, new: result.document).report(
                    oldLabel: "\(specPath) (Lotus \(base.lotusRelease))", newLabel: "\(name) (Lotus \(result.document.lotusRelease))"),
                terminator: "")
            staged.append((specPath, SpecWriter().render(result.document)))
        }
    } catch let error as DiagnosticsError {
        throw report(error)
    }
    // Written only once every API version imported: a failure leaves the specs as they were.
    for (path, text) in staged {
        try writeIfChanged(text, to: path)
        print("wrote \(path)")
    }
}

func specFiles(_ paths: [String]) throws -> [RouteTableGenerator.SpecFile] {
    guard !paths.isEmpty else { throw fail("no spec files given\n\(usage)") }
    return try paths.map { RouteTableGenerator.SpecFile(path: $0, text: try readText($0)) }
}

func runGenerate(_ arguments: ArraySlice<String>) throws {
    let (named, positional) = try options(arguments, allowed: ["output-dir"])
    guard let outputDirectory = named["output-dir"] else { throw fail("generate needs --output-dir\n\(usage)") }
    do {
        let outputs = try RouteTableGenerator().generate(try specFiles(positional))
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        for output in outputs {
            try writeIfChanged(output.source, to: outputDirectory + "/" + output.fileName)
        }
    } catch let error as DiagnosticsError {
        throw report(error)
    }
}

func runCheck(_ arguments: ArraySlice<String>) throws {
    do {
        let documents = try RouteTableGenerator().check(try specFiles(Array(arguments)))
        for document in documents {
            print("ok: api \(document.api.rawValue), \(document.methods.count) methods, Lotus \(document.lotusRelease)")
        }
    } catch let error as DiagnosticsError {
        throw report(error)
    }
}

let arguments = CommandLine.arguments.dropFirst()
do {
    switch arguments.first {
    case "import": try runImport(arguments.dropFirst())
    case "diff": try runDiff(arguments.dropFirst())
    case "bump": try runBump(arguments.dropFirst())
    case "generate": try runGenerate(arguments.dropFirst())
    case "check": try runCheck(arguments.dropFirst())
    case "-h", "--help", "help": print(usage)
    default: throw fail("unknown command '\(arguments.first ?? "")'\n\(usage)")
    }
} catch is ExitFailure {
    exit(1)
} catch {
    _ = fail("\(error)")
    exit(1)
}
