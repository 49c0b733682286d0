// Reference tests: generated Swift for a fixture spec must match the committed golden file.

import Foundation
import Testing

@testable import APIGenCore

@Suite struct GoldenTests {
    /// Set FPOOL_RECORD_GOLDEN=1 to rewrite the golden file; review the change as a git diff.
    static let recording = ProcessInfo.processInfo.environment["FPOOL_RECORD_GOLDEN"] == "1"

    @Test func generatedSourceMatchesGolden() throws {
        let specURL = TestPaths.fixtures.appending(path: "small.spec")
        let goldenURL = TestPaths.fixtures.appending(path: "Routes_small.swift.golden")
        let outputs = try RouteTableGenerator().generate([.init(path: specURL.path, text: try TestPaths.text(specURL))])
        #expect(outputs.map(\.fileName) == ["Routes_small.swift"])
        let generated = try #require(outputs.first).source
        if Self.recording {
            try generated.write(to: goldenURL, atomically: true, encoding: .utf8)
        }
        let golden = try TestPaths.text(goldenURL)
        if generated != golden {
            Issue.record("generated source differs from \(goldenURL.lastPathComponent):\n\(lineDiff(golden, generated))")
        }
    }

    @Test func renderingIsDeterministic() throws {
        let specURL = TestPaths.fixtures.appending(path: "small.spec")
        let file = RouteTableGenerator.SpecFile(path: specURL.path, text: try TestPaths.text(specURL))
        #expect(try RouteTableGenerator().generate([file]) == RouteTableGenerator().generate([file]))
    }
}

/// The first differing lines of two texts, marked - (expected) and + (actual).
func lineDiff(_ expected: String, _ actual: String) -> String {
    let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var out: [String] = []
    for index in 0..<max(a.count, b.count) where out.count < 40 {
        let left = index < a.count ? String(a[index]) : nil
        let right = index < b.count ? String(b[index]) : nil
        if left != right {
            if let left { out.append("\(index + 1)- \(left)") }
            if let right { out.append("\(index + 1)+ \(right)") }
        }
    }
    return out.joined(separator: "\n")
}
