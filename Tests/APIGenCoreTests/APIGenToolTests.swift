// The apigen executable as the plugin and a maintainer run it: exit codes, diagnostics, outputs.

import FPoolTestSupport
import Foundation
import Testing

@Suite struct APIGenToolTests {
    let apigen = ProcessRunner.builtProduct("apigen")

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "apigen-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func malformedSpecFailsWithFileLineAndGeneratesNothing() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = dir.appending(path: "v1.spec")
        try """
        api v1
        lotus v1.36.1
        ChainHead cat=chain perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=()
        ChainGetBlock cat=chain perm=read effect=read result=plain policy=Fastest filter=all nohang=false timeout=0s params=(Cid)
        """.write(to: spec, atomically: true, encoding: .utf8)
        let out = dir.appending(path: "out")
        let run = try runProcess(apigen, ["generate", "--output-dir", out.path, spec.path])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("\(spec.path):4: error: ChainGetBlock: field 'policy': unknown policy 'Fastest'"))
        #expect(!FileManager.default.fileExists(atPath: out.appending(path: "Routes_v1.swift").path))
    }

    @Test func generateWritesOnlyWhenTheBytesChange() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = TestPaths.fixtures.appending(path: "small.spec")
        let out = dir.appending(path: "out")
        #expect(try runProcess(apigen, ["generate", "--output-dir", out.path, spec.path]).status == 0)
        let file = out.appending(path: "Routes_small.swift")
        let golden = try TestPaths.text(TestPaths.fixtures.appending(path: "Routes_small.swift.golden"))
        #expect(try TestPaths.text(file) == golden)
        // Mark the file, regenerate from the same spec: an unchanged output is not rewritten.
        let marked = Date(timeIntervalSince1970: 1_000_000)
        try FileManager.default.setAttributes([.modificationDate: marked], ofItemAtPath: file.path)
        #expect(try runProcess(apigen, ["generate", "--output-dir", out.path, spec.path]).status == 0)
        let modified = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        #expect(modified == marked)
    }

    @Test func checkReportsEachSpec() throws {
        let run = try runProcess(
            apigen, ["check", TestPaths.apiSpec.appending(path: "v0.spec").path, TestPaths.apiSpec.appending(path: "v1.spec").path])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix("ok: api v") && $0.hasSuffix("Lotus v1.36.1") })
    }

    @Test func importThenDiffFromTheCommandLine() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = dir.appending(path: "old.spec")
        let new = dir.appending(path: "new.spec")
        let importOld = try runProcess(
            apigen,
            [
                "import", "--api", "v1", "--openrpc", TestPaths.lotus("v1.15.1", "full.json").path,
                "--methods", TestPaths.lotus("v1.15.1", "api-v1-unstable-methods.md").path, "--output", old.path,
            ])
        #expect(importOld.status == 0, "\(importOld.stderr)")
        #expect(importOld.stdout.contains("218 methods (Lotus v1.15.1, api v1)"))
        #expect(importOld.stderr.contains("review: ChainNotify: not in the OpenRPC document"))
        let importNew = try runProcess(
            apigen,
            [
                "import", "--api=v1", "--openrpc", TestPaths.lotus("v1.36.1", "full.json").path,
                "--methods", TestPaths.lotus("v1.36.1", "api-methods-v1-stable.md").path, "--base", old.path, "--output", new.path,
            ])
        #expect(importNew.status == 0, "\(importNew.stderr)")
        let diff = try runProcess(apigen, ["diff", old.path, new.path])
        #expect(diff.status == 0)
        #expect(diff.stdout.contains("(Lotus v1.15.1) →"))
        #expect(diff.stdout.contains("  + EthCall"))
        #expect(diff.stdout.contains("  - ClientStartDeal"))
    }

    @Test func badUsageExplainsItself() throws {
        let run = try runProcess(apigen, ["import", "--openrpc", "x.json"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("import needs --openrpc, --methods and --output"))
        let missing = try runProcess(apigen, ["check", "/nonexistent/v1.spec"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "apigen: cannot read /nonexistent/v1.spec: no such file\n")
        // A v0 spec against a v1 one would list every signature v0 keeps as a change.
        let v0 = TestPaths.apiSpec.appending(path: "v0.spec").path
        let v1 = TestPaths.apiSpec.appending(path: "v1.spec").path
        let mixed = try runProcess(apigen, ["diff", v0, v1])
        #expect(mixed.status == 1)
        #expect(mixed.stderr.contains("diff compares two specs of one API version: \(v0) is api v0, \(v1) is api v1"), "\(mixed.stderr)")
    }

    /// `--output` may name a directory (existing, or ending in `/`): the spec is written in it
    /// as `<api>.spec`; a missing input is one line naming it.
    @Test func importWritesIntoAnOutputDirectoryByAPIVersion() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = [
            "--openrpc", TestPaths.lotus("v1.15.1", "full.json").path, "--methods",
            TestPaths.lotus("v1.15.1", "api-v1-unstable-methods.md").path,
        ]
        let existing = try runProcess(apigen, ["import", "--api", "v0"] + inputs + ["--output", dir.path])
        #expect(existing.status == 0, "\(existing.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appending(path: "v0.spec").path))
        let fresh = dir.appending(path: "new").path + "/"
        let created = try runProcess(apigen, ["import", "--api", "v1"] + inputs + ["--output", fresh])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("wrote \(fresh)v1.spec: 218 methods"))
        let missing = try runProcess(
            apigen, ["import", "--openrpc", dir.appending(path: "none.json").path] + inputs.suffix(2) + ["--output", dir.path])
        #expect(missing.status == 1)
        #expect(missing.stderr == "apigen: cannot read \(dir.appending(path: "none.json").path): no such file\n")
    }

    /// Lotus renames its Go packages and aliases between releases: a document whose TipSetKey,
    /// CID, epoch and address types (and an opaque struct) carry package names the map has
    /// never seen imports with the same kinds, each listed for review; `--strict` refuses it.
    @Test func goTypesUnderNewNamesImportWithTheSameKinds() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var document = try TestPaths.text(TestPaths.lotus("v1.36.1", "full.json"))
        let renames = [
            "types.TipSetKey": "chaintypes.TipSetKey", "cid.Cid": "cidv2.Cid", "address.Address": "addr.Address",
            "abi.ChainEpoch": "chain.Height", "*types.MpoolConfig": "*mp.PoolSettings",
        ]
        for (from, to) in renames {
            document = document.replacingOccurrences(of: "\"description\": \"\(from)\"", with: "\"description\": \"\(to)\"")
        }
        let renamed = dir.appending(path: "renamed.json")
        try document.write(to: renamed, atomically: true, encoding: .utf8)
        let methods = ["--methods", TestPaths.lotus("v1.36.1", "api-methods-v1-stable.md").path]
        let original = try runProcess(
            apigen,
            ["import", "--openrpc", TestPaths.lotus("v1.36.1", "full.json").path] + methods + [
                "--output", dir.appending(path: "a.spec").path,
            ])
        let imported = try runProcess(
            apigen, ["import", "--openrpc", renamed.path] + methods + ["--output", dir.appending(path: "b.spec").path])
        #expect(original.status == 0 && imported.status == 0, "\(imported.stderr)")
        #expect(try TestPaths.text(dir.appending(path: "a.spec")) == TestPaths.text(dir.appending(path: "b.spec")))
        #expect(imported.stderr.contains("Go type 'chaintypes.TipSetKey' is known under another package as TipSetKey"))
        #expect(imported.stderr.contains("Go type 'chain.Height' is not in GoTypeMap; Epoch inferred from its example"))
        let strict = try runProcess(
            apigen, ["import", "--strict", "--openrpc", renamed.path] + methods + ["--output", dir.appending(path: "c.spec").path])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("error: ") && strict.stderr.contains("--strict: "))
        #expect(!FileManager.default.fileExists(atPath: dir.appending(path: "c.spec").path))
    }

    /// A bump in one command: each API version's release docs imported onto the current spec,
    /// the diff printed, the spec written in place; the shipped specs bumped to their own
    /// release do not change, and specs of v1.15.1 bumped to v1.36.1 gain and lose what it did.
    @Test func bumpImportsEachVersionOntoTheSpecsAndPrintsTheDiff() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in ["v0.spec", "v1.spec"] {
            try FileManager.default.copyItem(at: TestPaths.apiSpec.appending(path: file), to: dir.appending(path: file))
        }
        let noop = try runProcess(
            apigen, ["bump", "--lotus", TestPaths.lotus("v1.36.1", "full.json").deletingLastPathComponent().path, "--spec-dir", dir.path])
        #expect(noop.status == 0, "\(noop.stderr)")
        #expect(noop.stdout.contains("api-methods-v1-stable.md (Lotus v1.36.1): 0 added, 0 removed, 0 changed"))
        #expect(noop.stdout.contains("api-methods-v0-deprecated.md (Lotus v1.36.1): 0 added, 0 removed, 0 changed"))
        for file in ["v0.spec", "v1.spec"] {
            #expect(try TestPaths.text(dir.appending(path: file)) == TestPaths.text(TestPaths.apiSpec.appending(path: file)))
        }
        let old = dir.appending(path: "old")
        let importOld = try runProcess(
            apigen,
            [
                "import", "--api", "v1", "--openrpc", TestPaths.lotus("v1.15.1", "full.json").path, "--methods",
                TestPaths.lotus("v1.15.1", "api-v1-unstable-methods.md").path, "--output", old.path + "/",
            ])
        #expect(importOld.status == 0, "\(importOld.stderr)")
        let bump = try runProcess(
            apigen,
            [
                "bump", "--api", "v1", "--lotus", TestPaths.lotus("v1.36.1", "full.json").deletingLastPathComponent().path, "--spec-dir",
                old.path,
            ])
        #expect(bump.status == 0, "\(bump.stderr)")
        #expect(bump.stdout.contains("  + EthCall") && bump.stdout.contains("  - ClientStartDeal"))
        #expect(try TestPaths.text(old.appending(path: "v1.spec")).contains("\nlotus v1.36.1\n"))
        let empty = try runProcess(apigen, ["bump", "--lotus", dir.path, "--spec-dir", dir.path])
        #expect(empty.status == 1)
        #expect(empty.stderr == "apigen: cannot read \(dir.path)/full.json: no such file\n")
    }
}
