// The output switch every fpool command takes.

import ArgumentParser
import Foundation

/// `--json`: machine-readable output instead of the seed's text format.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    /// Pretty, key-sorted JSON of `value`, for scripts and diffs.
    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
