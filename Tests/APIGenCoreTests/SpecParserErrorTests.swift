// A malformed spec fails with file:line and the reason, and produces no document at all.

import Testing

@testable import APIGenCore

@Suite struct SpecParserErrorTests {
    static let header = "api v1\nlotus v1.36.1\n"
    static let good = "ChainHead cat=chain perm=read effect=read result=plain policy=default filter=all nohang=false timeout=0s params=()"

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let line: String
        let expected: String
        var testDescription: String { self.name }
    }

    static let cases: [Case] = [
        Case(
            name: "unknown kind", line: good.replacingOccurrences(of: "params=()", with: "params=(Address,TipsetKey)"),
            expected: "unknown param kind 'TipsetKey'; expected one of: Other, TipSetKey"),
        Case(
            name: "unknown policy", line: good.replacingOccurrences(of: "policy=default", with: "policy=OneBySeed"),
            expected: "unknown policy 'OneBySeed'; expected one of: default, OneByIndexAsc"),
        Case(
            name: "policy is case-sensitive", line: good.replacingOccurrences(of: "policy=default", with: "policy=onebyseedround"),
            expected: "unknown policy 'onebyseedround'"),
        Case(
            name: "unknown perm", line: good.replacingOccurrences(of: "perm=read", with: "perm=root"),
            expected: "unknown perm 'root'; expected one of: read, write, sign, admin"),
        Case(name: "bad timeout", line: good.replacingOccurrences(of: "timeout=0s", with: "timeout=30x"), expected: "bad duration '30x'"),
        Case(
            name: "missing field", line: good.replacingOccurrences(of: " effect=read", with: ""),
            expected: "ChainHead: missing field 'effect'"),
        Case(name: "unknown field", line: good + " colour=blue", expected: "unknown field 'colour'"),
        Case(name: "field twice", line: good + " perm=read", expected: "field 'perm' given twice"),
        Case(
            name: "bad nohang", line: good.replacingOccurrences(of: "nohang=false", with: "nohang=no"),
            expected: "expected true or false, found 'no'"),
        Case(
            name: "seed beyond params", line: good + " seed=p0.From", expected: "seed 'p0.From' names param 0, but the method has 0 params"),
        Case(
            name: "seed on a non-address", line: good.replacingOccurrences(of: "params=()", with: "params=(Epoch)") + " seed=p0",
            expected: "must name an Address param"),
        Case(
            name: "bad seed syntax", line: good.replacingOccurrences(of: "params=()", with: "params=(Message)") + " seed=p0..From",
            expected: "bad seed locator 'p0..From'"),
        Case(name: "bad removed", line: good + " removed=1.36", expected: "expected a Lotus release such as v1.36.1"),
        Case(
            name: "bad params syntax", line: good.replacingOccurrences(of: "params=()", with: "params=Address"),
            expected: "expected a parenthesised list"),
        Case(name: "not key=value", line: good + " oops", expected: "expected key=value, found 'oops'"),
        Case(
            name: "bad method name", line: good.replacingOccurrences(of: "ChainHead", with: "chain-head"),
            expected: "expected a method name"),
    ]

    @Test(arguments: cases)
    func malformedLineIsReportedWithItsLineNumber(_ testCase: Case) {
        // Two good lines before the bad one: the error must point at line 5, not line 1.
        let text =
            Self.header + "\n" + Self.good.replacingOccurrences(of: "ChainHead", with: "ChainGetGenesis") + "\n" + testCase.line + "\n"
        do {
            _ = try SpecParser().parse(text, file: "api-spec/v1.spec")
            Issue.record("parsed a malformed spec")
        } catch {
            let rendered = error.diagnostics.map(\.description)
            #expect(rendered.contains { $0.hasPrefix("api-spec/v1.spec:5: error: ") && $0.contains(testCase.expected) }, "\(rendered)")
        }
    }

    @Test func duplicateMethodNamesTheFirstDefinition() {
        let text = Self.header + Self.good + "\n\n" + Self.good + "\n"
        let error = #expect(throws: DiagnosticsError.self) { try SpecParser().parse(text, file: "v1.spec") }
        #expect(error?.description == "v1.spec:5: error: duplicate method 'ChainHead' (first defined at line 3)")
    }

    @Test func everyErrorIsReportedInOneRun() {
        let text =
            Self.header + Self.good.replacingOccurrences(of: "perm=read", with: "perm=x") + "\n"
            + Self.good.replacingOccurrences(of: "ChainHead", with: "ChainGetBlock").replacingOccurrences(
                of: "timeout=0s", with: "timeout=-1") + "\n"
        do {
            _ = try SpecParser().parse(text, file: "v1.spec")
            Issue.record("parsed a malformed spec")
        } catch {
            #expect(error.diagnostics.map(\.line) == [3, 4])
        }
    }

    @Test func missingHeadersAreErrors() {
        let noAPI = #expect(throws: DiagnosticsError.self) { try SpecParser().parse("lotus v1.36.1\n" + Self.good + "\n", file: "v1.spec") }
        #expect(noAPI?.description == "v1.spec:1: error: missing 'api <version>' header (e.g. 'api v1')")
        let noLotus = #expect(throws: DiagnosticsError.self) { try SpecParser().parse("api v1\n" + Self.good + "\n", file: "v1.spec") }
        #expect(noLotus?.description == "v1.spec:1: error: missing 'lotus <release>' header (e.g. 'lotus v1.36.1')")
    }

    @Test func emptySpecIsAnError() {
        do {
            _ = try SpecParser().parse(Self.header, file: "v1.spec")
            Issue.record("an empty spec parsed")
        } catch {
            #expect(error.description.contains("the spec defines no methods"))
        }
    }

    @Test func oneBadSpecStopsGenerationOfAll() {
        let good = RouteTableGenerator.SpecFile(path: "v0.spec", text: "api v0\nlotus v1.36.1\n" + Self.good + "\n")
        let bad = RouteTableGenerator.SpecFile(
            path: "v1.spec", text: Self.header + Self.good.replacingOccurrences(of: "effect=read", with: "effect=maybe") + "\n")
        do {
            _ = try RouteTableGenerator().generate([good, bad])
            Issue.record("generated from a malformed spec")
        } catch {
            #expect(
                error.description
                    == "v1.spec:3: error: ChainHead: field 'effect': unknown effect 'maybe'; expected one of: read, push, write")
        }
    }

    @Test func twoSpecsForOneVersionAreRejected() {
        let file = RouteTableGenerator.SpecFile(path: "a.spec", text: Self.header + Self.good + "\n")
        let twin = RouteTableGenerator.SpecFile(path: "b.spec", text: Self.header + Self.good + "\n")
        #expect(throws: DiagnosticsError.self) { try RouteTableGenerator().generate([file, twin]) }
    }
}
