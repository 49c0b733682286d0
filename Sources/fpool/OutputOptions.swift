// The output switch every fpool command takes.

import ArgumentParser
import Foundation
import LotusWire

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

    /// Pretty, key-sorted JSON of an admin API answer.
    func printJSON(_ value: JSON) throws {
        let object = try JSONSerialization.jsonObject(with: Data(value.encoded()), options: [.fragmentsAllowed])
        let data = try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        print(String(decoding: data, as: UTF8.self))
    }
}
