// Imports the real Lotus v1.15.1 and v1.36.1 API documents and checks what routing relies on.

import Foundation
@_spi(Generated) import RouteModel
import Testing

@testable import APIGenCore

/// One API version's documents of one Lotus release.
struct LotusDocs: Sendable, CustomTestStringConvertible {
    let release: String
    let markdown: String
    let api: APIVersion

    var testDescription: String { "\(self.release) \(self.api.rawValue)" }

    static let all = [
        LotusDocs(release: "v1.15.1", markdown: "api-v1-unstable-methods.md", api: .v1),
        LotusDocs(release: "v1.15.1", markdown: "api-v0-methods.md", api: .v0),
        LotusDocs(release: "v1.36.1", markdown: "api-methods-v1-stable.md", api: .v1),
        LotusDocs(release: "v1.36.1", markdown: "api-methods-v0-deprecated.md", api: .v0),
    ]

    static func find(_ release: String, _ api: APIVersion) -> LotusDocs {
        all.first { $0.release == release && $0.api == api }!
    }

    func run(base: SpecDocument? = nil) throws -> LotusImporter.Result {
        let json = try Data(contentsOf: TestPaths.lotus(self.release, "full.json"))
        let mdURL = TestPaths.lotus(self.release, self.markdown)
        return try LotusImporter(
            openRPC: try OpenRPCDocument(json: json, file: "full.json"),
            markdown: try MethodsMarkdown(text: try TestPaths.text(mdURL), file: self.markdown),
            markdownFile: self.markdown, api: self.api, base: base
        ).run()
    }

    /// Method name → perm word as the markdown states them, read with a plain line scan
    /// independent of MethodsMarkdown.
    func markdownPerms() throws -> [String: String] {
        var perms: [String: String] = [:]
        var current: String?
        for line in try TestPaths.text(TestPaths.lotus(self.release, self.markdown)).split(separator: "\n") {
            if line.hasPrefix("### ") {
                let name = String(line.dropFirst(4))
                current = name.allSatisfy({ $0.isLetter || $0.isNumber }) ? name : nil
            } else if line.hasPrefix("Perms:"), let name = current {
                perms[name] = line.dropFirst("Perms:".count).trimmingCharacters(in: .whitespaces)
            }
        }
        return perms
    }
}

@Suite struct LotusImportTests {
    @Test(arguments: LotusDocs.all)
    func everyMarkdownMethodIsImportedWithItsPerm(_ docs: LotusDocs) throws {
        let document = try docs.run().document
        let expected = try docs.markdownPerms()
        #expect(expected.count > 190)
        #expect(Set(document.methods.map(\.name)) == Set(expected.keys))
        for (name, perm) in expected {
            // A method the docs leave without a perm is imported as admin, the most restrictive.
            #expect(document.method(named: name)?.entry.perm.rawValue == (perm.isEmpty ? "admin" : perm), "\(name)")
        }
    }

    @Test(arguments: [LotusDocs.find("v1.15.1", .v1), LotusDocs.find("v1.36.1", .v1)])
    func spotChecksOfTheV1Table(_ docs: LotusDocs) throws {
        let document = try docs.run().document
        func entry(_ name: String) throws -> RouteEntry { try #require(document.method(named: name)).entry }

        let getActor = try entry("StateGetActor")
        #expect(Array(getActor.params) == [.address, .tipSetKey])
        #expect(getActor.retryTags == [.actorNotFound, .blockNotFound])
        #expect(getActor.effect == .read)

        #expect(Array(try entry("ChainGetTipSetByHeight").params) == [.epoch, .tipSetKey])
        #expect(try entry("ChainNotify").result == .channel)
        #expect(try entry("ChainHead").result == .plain)

        let push = try entry("MpoolPushMessage")
        #expect(push.effect == .push)
        #expect(push.seed == SeedLocator(param: 0, path: [.field("From")]))
        #expect(push.perm == .sign)
        #expect(try entry("MpoolPush").seed?.description == "p0.Message.From")

        #expect(Array(try entry("WalletBalance").params) == [.address])
        #expect(try entry("WalletBalance").retryTags == .actorNotFound)
        #expect(try entry("Session").params.isEmpty)
        // v1 multisig calls only build a prototype; the client pushes it.
        #expect(try entry("MsigCreate").effect == .read)
    }

    @Test func v0SignaturesAndEffectsDifferFromV1() throws {
        let v0 = try LotusDocs.find("v1.36.1", .v0).run()
        let v1 = try LotusDocs.find("v1.36.1", .v1).run()
        // v0 StateSearchMsg takes just the CID; v1 adds tipset, limit and allowReplaced.
        #expect(Array(try #require(v0.document.method(named: "StateSearchMsg")).entry.params) == [.cid])
        // Its limit is typed abi.ChainEpoch but counts epochs back: not a height to wait for.
        #expect(Array(try #require(v1.document.method(named: "StateSearchMsg")).entry.params) == [.tipSetKey, .cid, .other, .other])
        #expect(Array(try #require(v1.document.method(named: "StateWaitMsg")).entry.params) == [.cid, .other, .other, .other])
        #expect(
            Array(try #require(v1.document.method(named: "StateGetRandomnessFromTickets")).entry.params) == [
                .other, .epoch, .other, .tipSetKey,
            ])
        #expect(v0.review.contains { $0.hasPrefix("StateSearchMsg: signature differs") })
        // v0 multisig calls sign and send from their src param.
        let create = try #require(v0.document.method(named: "MsigCreate")).entry
        #expect(create.effect == .push)
        #expect(create.seed == SeedLocator(param: 4))
        #expect(try #require(v0.document.method(named: "MsigCancel")).entry.seed == SeedLocator(param: 4))
        #expect(try #require(v0.document.method(named: "BeaconGetEntry")).entry.params.first == .epoch)
    }

    @Test func methodsMissingFromOpenRPCAreListedForReview() throws {
        let result = try LotusDocs.find("v1.36.1", .v1).run()
        for name in ["Session", "Version", "ChainNotify", "NetPeers", "AuthNew", "SubscribeActorEventsRaw"] {
            #expect(result.review.contains { $0.hasPrefix("\(name): not in the OpenRPC document") }, "\(name)")
        }
        // Inferred from the markdown's example values.
        // nroots is an epoch-typed count, corrected to Other.
        #expect(Array(try #require(result.document.method(named: "ChainExport")).entry.params) == [.other, .other, .tipSetKey])
        #expect(try #require(result.document.method(named: "SyncIncomingBlocks")).entry.result == .channel)
    }

    @Test func everyGoTypeOfBothReleasesIsMapped() throws {
        for release in ["v1.15.1", "v1.36.1"] {
            let document = try OpenRPCDocument(json: try Data(contentsOf: TestPaths.lotus(release, "full.json")), file: release)
            let unmapped = Set(document.methods.values.flatMap(\.params).map(\.goType)).filter { GoTypeMap.kind(of: $0) == nil }
            #expect(unmapped.isEmpty, "\(release): \(unmapped.sorted())")
        }
    }

    /// One method, StateFoo, whose only param has a Go type no map knows ('abi.Whatever'),
    /// imported with `base`.
    private static func importStateFoo(base: SpecDocument?) throws -> LotusImporter.Result {
        let json = """
            {"openrpc":"1.2.6","info":{"version":"1.99.0"},"methods":[
              {"name":"Filecoin.StateFoo","params":[{"name":"p1","description":"abi.Whatever","schema":{"examples":[10101]}}],
               "result":{"name":"bool"}}]}
            """
        let markdown =
            "# Groups\n## State\n\n### StateFoo\nFoo.\n\n\nPerms: read\n\nInputs:\n```json\n[\n  10101\n]\n```\n\nResponse: `true`\n"
        return try LotusImporter(
            openRPC: try OpenRPCDocument(json: Data(json.utf8), file: "full.json"),
            markdown: try MethodsMarkdown(text: markdown, file: "methods.md"),
            markdownFile: "methods.md", api: .v1, base: base
        ).run()
    }

    /// A Go type the map has never seen does not stop the import: its kind comes from the
    /// example Lotus's doc generator writes for it (10101 for an epoch), listed for review.
    @Test func anUnknownGoTypeIsInferredFromItsExampleAndListed() throws {
        let result = try Self.importStateFoo(base: nil)
        #expect(result.document.methods.map { "\($0.entry.params)" } == ["(Epoch)"])
        #expect(result.review == ["StateFoo: param 0 Go type 'abi.Whatever' is not in GoTypeMap; Epoch inferred from its example"])
    }

    /// A bump's review lists what is new or changed: a method whose kinds had to be inferred
    /// is listed when the base spec lacks it or had other kinds, not when the base spec (already
    /// reviewed) has the same ones.
    @Test func aBumpReviewsOnlyWhatTheBaseSpecDoesNotAlreadyHave() throws {
        let run = Self.importStateFoo(base:)
        let first = try run(nil)
        #expect(first.review.count == 1, "\(first.review)")
        #expect(try run(first.document).review.isEmpty)
        var changed = first.document
        changed.methods[0].entry = RouteEntry(
            name: "StateFoo", category: .state, perm: .read, params: ParamKinds([.other]), result: .plain, policy: .poolDefault,
            filter: .all, nohang: false, timeout: .zero, effect: .read, seed: nil, removedIn: nil)
        #expect(
            try run(changed).review == ["StateFoo: param 0 Go type 'abi.Whatever' is not in GoTypeMap; Epoch inferred from its example"])
    }

    /// Filters live on the daemon that made them: reading or draining one is never sent to a
    /// second daemon (which answers "filter not found") or hedged, whatever the method's perm.
    @Test func ethFilterReadsAreDaemonLocalWrites() {
        for name in ["EthGetFilterChanges", "EthGetFilterLogs", "EthNewFilter"] {
            #expect(ImportDefaults.decide(name: name, perm: .read, responseExample: nil).effect == .write, "\(name)")
        }
    }

    @Test func handTunedFieldsSurviveReimport() throws {
        let docs = LotusDocs.find("v1.36.1", .v1)
        var base = try docs.run().document
        let index = try #require(base.methods.firstIndex { $0.name == "ChainHead" })
        let head = base.methods[index].entry
        base.methods[index] = SpecMethod(
            entry: RouteEntry(
                name: head.name, category: head.category, perm: head.perm, params: head.params, result: head.result,
                policy: .fixed(.oneByIndexAsc), filter: .sealing, nohang: true, timeout: GoDuration(milliseconds: 30_000),
                effect: head.effect, seed: nil, removedIn: nil),
            comments: ["pinned to the first node by the operator"])
        // A method this release no longer has, and a seed that no longer fits its method.
        base.methods.append(SpecMethod(entry: RouteEntry.unlisted(name: "ChainGone").with(removedIn: nil)))
        let balance = try #require(base.methods.firstIndex { $0.name == "WalletBalance" })
        let wallet = base.methods[balance].entry
        base.methods[balance].entry = RouteEntry(
            name: wallet.name, category: wallet.category, perm: wallet.perm, params: wallet.params, result: wallet.result,
            policy: wallet.policy, filter: wallet.filter, nohang: wallet.nohang, timeout: wallet.timeout,
            effect: wallet.effect, seed: SeedLocator(param: 3), removedIn: nil)

        let result = try docs.run(base: base)
        let tuned = try #require(result.document.method(named: "ChainHead"))
        #expect(tuned.entry.policy == .fixed(.oneByIndexAsc))
        #expect(tuned.entry.filter == .sealing)
        #expect(tuned.entry.nohang)
        #expect(tuned.entry.timeout.description == "30s")
        #expect(tuned.comments == ["pinned to the first node by the operator"])
        #expect(result.document.method(named: "ChainGone")?.entry.removedIn == "v1.36.1")
        #expect(result.review.contains("ChainGone: not in v1.36.1; kept for older clients, marked removed=v1.36.1"))
        #expect(result.document.method(named: "WalletBalance")?.entry.seed == nil)
        #expect(result.review.contains { $0.hasPrefix("WalletBalance: params changed to (Address); seed p3 no longer fits") })
    }

    @Test func reimportingTheShippedSpecsChangesNothing() throws {
        for (file, docs) in [("v1.spec", LotusDocs.find("v1.36.1", .v1)), ("v0.spec", LotusDocs.find("v1.36.1", .v0))] {
            let text = try TestPaths.text(TestPaths.apiSpec.appending(path: file))
            let shipped = try SpecParser().parse(text, file: file)
            #expect(SpecWriter().render(try docs.run(base: shipped).document) == text, "\(file)")
        }
    }

    /// The shipped specs were accumulated over every minor release from v1.15.1 to v1.36.1
    /// (api-spec/README.md): each method of the two releases on this machine is there, marked
    /// `added` exactly when v1.15.1 lacked it and `removed` exactly when v1.36.1 lacks it, at
    /// a release between the two; methods served only in between (the Raft* pair of v1.19 to
    /// v1.26) are kept for clients of that age.
    @Test func shippedSpecsCoverEveryMethodOfBothReleasesAndThoseBetween() throws {
        for api in [APIVersion.v0, .v1] {
            let shipped = try SpecParser().parse(
                try TestPaths.text(TestPaths.apiSpec.appending(path: "\(api.rawValue).spec")), file: api.rawValue)
            let old = Set(try LotusDocs.find("v1.15.1", api).markdownPerms().keys)
            let new = Set(try LotusDocs.find("v1.36.1", api).markdownPerms().keys)
            #expect(Set(shipped.methods.map(\.name)).isSuperset(of: old.union(new)))
            let between: (String?) -> Bool = { release in
                guard let release else { return false }
                return Self.release(release, isAfter: "v1.15.1") && !Self.release(release, isAfter: "v1.36.1")
            }
            for method in shipped.methods {
                #expect((method.entry.removedIn != nil) == !new.contains(method.name), "\(api) \(method.name)")
                #expect((method.addedIn != nil) == !old.contains(method.name), "\(api) \(method.name)")
                if let removed = method.entry.removedIn { #expect(between(removed), "\(api) \(method.name) removed=\(removed)") }
                if let added = method.addedIn { #expect(between(added), "\(api) \(method.name) added=\(added)") }
            }
        }
        let v1 = try SpecParser().parse(try TestPaths.text(TestPaths.apiSpec.appending(path: "v1.spec")), file: "v1.spec")
        for name in ["RaftLeader", "RaftState"] {
            let raft = try #require(v1.method(named: name))
            #expect(raft.addedIn == "v1.19.0" && raft.entry.removedIn == "v1.27.0" && raft.entry.perm == .read, "\(name)")
        }
    }

    /// Whether Lotus release `a` (`v1.20.0`) comes after `b`.
    private static func release(_ a: String, isAfter b: String) -> Bool {
        let parts = { (text: String) in text.dropFirst().split(separator: ".").map { Int($0) ?? 0 } }
        return parts(b).lexicographicallyPrecedes(parts(a))
    }

    /// `--base` over the releases in order accumulates every method ever served: each method
    /// of either release is in the result with its perm (the newer release's where both have
    /// it), and those only the older one served are marked removed in the newer.
    @Test(arguments: [APIVersion.v1, .v0])
    func importingTheReleasesInOrderKeepsEveryMethodOfEach(_ api: APIVersion) throws {
        let older = LotusDocs.find("v1.15.1", api)
        let newer = LotusDocs.find("v1.36.1", api)
        let result = try newer.run(base: try older.run().document).document
        let byName = Dictionary(uniqueKeysWithValues: result.methods.map { ($0.name, $0.entry) })
        let olderPerms = try older.markdownPerms()
        // Each method carries the release that first served it, when that is not the first imported.
        for method in result.methods {
            #expect(method.addedIn == (olderPerms[method.name] == nil ? "v1.36.1" : nil), "\(api) \(method.name)")
        }
        let newPerms = try newer.markdownPerms()
        for (name, perm) in newPerms {
            // A method the markdown gives no Perms (v0 ChainPutObj) is assumed admin.
            #expect(byName[name]?.perm.rawValue == (perm.isEmpty ? "admin" : perm) && byName[name]?.removedIn == nil, "\(api) \(name)")
        }
        for (name, perm) in olderPerms where newPerms[name] == nil {
            #expect(byName[name]?.perm.rawValue == perm && byName[name]?.removedIn == "v1.36.1", "\(api) \(name)")
        }
    }
}
