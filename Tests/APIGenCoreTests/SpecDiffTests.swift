// `apigen diff`: what a Lotus bump really changes.

import FPoolTestSupport
import RouteModel
import Testing

@testable import APIGenCore

@Suite struct SpecDiffTests {
    @Test(arguments: [APIVersion.v1, .v0])
    func bumpFrom115To136ListsExactlyTheMethodsThatChanged(_ api: APIVersion) throws {
        let oldDocs = LotusDocs.find("v1.15.1", api)
        let newDocs = LotusDocs.find("v1.36.1", api)
        let diff = SpecDiff(old: try oldDocs.run().document, new: try newDocs.run().document)
        let old = Set(try oldDocs.markdownPerms().keys)
        let new = Set(try newDocs.markdownPerms().keys)
        #expect(Set(diff.added.map(\.name)) == new.subtracting(old))
        #expect(Set(diff.removed.map(\.name)) == old.subtracting(new))
        // Lotus kept every surviving signature and permission between these releases.
        #expect(diff.changed.isEmpty)
        if api == .v1 {
            #expect(diff.removed.map(\.name).contains("BeaconGetEntry"))
            #expect(diff.removed.map(\.name).contains("ClientStartDeal"))
            #expect(diff.added.map(\.name).contains("EthCall"))
            #expect(diff.added.map(\.name).contains("F3GetManifest"))
        }
    }

    @Test func reportNamesParamPermAndResultChanges() throws {
        let old = try SpecParser().parse(
            """
            api v1
            lotus v1.15.1
            StateSearchMsg cat=state perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=(Cid)
            ChainNotify cat=chain perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=()
            BeaconGetEntry cat=beacon perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=(Epoch)
            """, file: "old.spec")
        let new = try SpecParser().parse(
            """
            api v1
            lotus v1.36.1
            StateSearchMsg cat=state perm=write effect=read result=plain policy=default filter=all nohang=false timeout=0s params=(TipSetKey,Cid,Other,Other)
            ChainNotify cat=chain perm=read effect=read result=channel policy=default filter=all nohang=false timeout=0s params=()
            BeaconGetEntry cat=beacon perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=(Epoch) removed=v1.36.1
            EthCall cat=eth perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=(Other,EthBlock)
            """, file: "new.spec")
        let report = SpecDiff(old: old, new: new).report(oldLabel: "old", newLabel: "new")
        #expect(
            report == """
                old → new: 1 added, 1 removed, 2 changed

                Added:
                  + EthCall (Other,EthBlock) perm=read

                Removed:
                  - BeaconGetEntry (Epoch)

                Changed:
                  ~ ChainNotify: result plain → channel
                  ~ StateSearchMsg: params (Cid) → (TipSetKey,Cid,Other,Other); perm read → write

                """)
    }

    /// Read with the specs' history: a method the older spec marks removed is "present again"
    /// when a release serves it, not added; and it is not removed again when one lacks it.
    @Test func aMethodMarkedRemovedIsPresentAgainNotAddedAndNotRemovedTwice() throws {
        let old = try SpecParser().parse(
            """
            api v1
            lotus v1.36.1
            ChainHead cat=chain perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=()
            ClientStartDeal cat=client perm=admin effect=write result=plain policy=default filter=all nohang=false timeout=0s params=(Other) removed=v1.36.1
            BeaconGetEntry cat=beacon perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=(Epoch) removed=v1.36.1
            """, file: "shipped.spec")
        let new = try SpecParser().parse(
            """
            api v1
            lotus v1.20.0
            ChainHead cat=chain perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=()
            ClientStartDeal cat=client perm=admin effect=write result=plain policy=default filter=all nohang=false timeout=0s params=(Other)
            EthCall cat=eth perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=(Other,EthBlock)
            """, file: "release.spec")
        let diff = SpecDiff(old: old, new: new)
        #expect(diff.added.map(\.name) == ["EthCall"])
        #expect(diff.presentAgain.map(\.name) == ["ClientStartDeal"])
        #expect(diff.removed.isEmpty)
        #expect(diff.report(oldLabel: "old", newLabel: "new").hasPrefix("old → new: 1 added, 1 present again, 0 removed, 0 changed"))
        let json = try JSONValue.parse(diff.json(oldLabel: "old", newLabel: "new"))
        #expect(json["added"]?.arrayValue?.map { $0["name"]?.stringValue } == ["EthCall"])
        #expect(json["presentAgain"]?.arrayValue?.map { $0["name"]?.stringValue } == ["ClientStartDeal"])
        #expect(json["presentAgain"]?.arrayValue?.first?["perm"]?.stringValue == "admin")
        #expect(json["removed"]?.arrayValue?.isEmpty == true)
    }

    /// The case on real documents: the shipped spec against v1.15.1's import names none
    /// of the methods it keeps with `removed=` as added.
    @Test func theShippedSpecAgainstAnOlderReleaseAddsNothingItMarksRemoved() throws {
        let shipped = try SpecParser().parse(
            try TestPaths.text(TestPaths.apiSpec.appending(path: "v1.spec")), file: "v1.spec")
        let release = try LotusDocs.find("v1.15.1", .v1).run().document
        let diff = SpecDiff(old: shipped, new: release)
        let markedRemoved = Set(shipped.methods.filter { $0.entry.removedIn != nil }.map(\.name))
        #expect(!markedRemoved.isEmpty)
        #expect(Set(diff.added.map(\.name)).isDisjoint(with: markedRemoved))
        #expect(diff.presentAgain.map(\.name).contains("ClientStartDeal"))
        #expect(Set(diff.presentAgain.map(\.name)).isSubset(of: markedRemoved))
    }
}
