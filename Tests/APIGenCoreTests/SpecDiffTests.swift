// `apigen diff`: what a Lotus bump really changes.

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
}
