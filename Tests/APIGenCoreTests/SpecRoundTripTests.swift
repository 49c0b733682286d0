// The writer's canonical layout parses back to the same document, comments included.

import Testing

@testable import APIGenCore
import RouteModel

@Suite struct SpecRoundTripTests {
    @Test func fixtureSurvivesWriteAndParse() throws {
        let url = TestPaths.fixtures.appending(path: "small.spec")
        let parsed = try SpecParser().parse(try TestPaths.text(url), file: url.path)
        let written = SpecWriter().render(parsed)
        let reparsed = try SpecParser().parse(written, file: "written.spec")
        #expect(reparsed.api == parsed.api)
        #expect(reparsed.lotusRelease == parsed.lotusRelease)
        #expect(reparsed.headerComments == parsed.headerComments)
        let byName = { (document: SpecDocument) in Dictionary(uniqueKeysWithValues: document.methods.map { ($0.name, $0) }) }
        let before = byName(parsed)
        let after = byName(reparsed)
        #expect(before.keys.sorted() == after.keys.sorted())
        for (name, method) in before {
            #expect(after[name]?.entry == method.entry, "\(name)")
            #expect(after[name]?.comments == method.comments, "\(name)")
        }
        // Writing is a fixed point: the canonical text of the canonical text is itself.
        #expect(SpecWriter().render(reparsed) == written)
    }

    @Test func shippedSpecsAreInCanonicalLayout() throws {
        for file in ["v0.spec", "v1.spec"] {
            let url = TestPaths.apiSpec.appending(path: file)
            let text = try TestPaths.text(url)
            #expect(SpecWriter().render(try SpecParser().parse(text, file: file)) == text, "\(file) is not in the layout apigen writes")
        }
    }

    @Test func commentsAttachToTheMethodBelow() throws {
        let text = """
            # header
            api v1
            lotus v1.36.1

            # why ChainHead is special
            # second line
            ChainHead cat=chain perm=read effect=read result=plain policy=OneByChainHeadDesc filter=all nohang=false timeout=0s params=()
            ChainGetGenesis cat=chain perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=()
            """
        let document = try SpecParser().parse(text, file: "v1.spec")
        #expect(document.headerComments == ["header"])
        #expect(document.method(named: "ChainHead")?.comments == ["why ChainHead is special", "second line"])
        #expect(document.method(named: "ChainGetGenesis")?.comments == [])
        #expect(document.method(named: "ChainHead")?.line == 7)
    }
}
