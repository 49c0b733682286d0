// The JSON readers under fuzz: the byte-range scanner the server routes with (`RawJSON`) and
// the tree parser must accept exactly the same documents, and agree on what they hold.

import LotusWire

enum JSONFuzzTarget {
    static let target = FuzzTarget(
        name: "json",
        seeds: (RPCSeedFrames.frames + RPCSeedFrames.documents).map { Array($0.utf8) },
        mutator: Mutator(
            dictionary: RPCSeedFrames.jsonTokens, nesting: RPCSeedFrames.jsonNesting, depthLimit: 512,
            delimiters: RPCSeedFrames.jsonDelimiters,
            maxLength: 16 << 10),
        ciIterations: 6000,
        check: Self.check)

    /// Properties: both readers accept or both refuse (with an offset inside the input); an
    /// accepted document's ranges (whole, members, elements) hold what the tree holds; the
    /// tree written out reads back the same.
    static func check(_ bytes: [UInt8]) throws(FuzzFailure) -> String {
        let scanned = Result { () throws(JSONParseError) in try RawJSON.validate(bytes) }
        let parsed = Result { () throws(JSONParseError) in try JSON.parse(bytes) }
        switch (scanned, parsed) {
        case (.failure(let scanError), .failure(let parseError)):
            try FuzzFailure.require((0...bytes.count).contains(scanError.offset), "RawJSON error outside the input: \(scanError)")
            try FuzzFailure.require((0...bytes.count).contains(parseError.offset), "JSON.parse error outside the input: \(parseError)")
            return "refused: \(reasonKind(scanError.reason)) / \(reasonKind(parseError.reason))"
        case (.success, .failure(let parseError)):
            throw FuzzFailure("RawJSON.validate accepts what JSON.parse refuses (\(parseError))")
        case (.failure(let scanError), .success):
            throw FuzzFailure("JSON.parse accepts what RawJSON.validate refuses (\(scanError))")
        case (.success(let range), .success(let tree)):
            let value = Result { () throws(JSONParseError) in try RawJSON.value(in: bytes, from: 0) }
            try FuzzFailure.require((try? value.get()) == range, "RawJSON.value gives \(value), validate \(range)")
            try Self.checkRange(bytes, range, holds: tree)
            try Self.checkChildren(bytes, range, of: tree)
            let written = tree.encoded()
            try FuzzFailure.require((try? RawJSON.validate(written)) != nil, "the writer wrote JSON RawJSON refuses: \(written.hex)")
            let reread = try? JSON.parse(written)
            try FuzzFailure.require(reread.map { identical($0, asWritten(tree)) } == true, "written and read back, the tree changed")
            return "accepted: \(tree.kind)"
        }
    }

    /// The bytes in `range` parse to `tree`, and the scanner's own decoders agree on them.
    static func checkRange(_ bytes: [UInt8], _ range: Range<Int>, holds tree: JSON) throws(FuzzFailure) {
        let reparsed = try? JSON.parse(bytes[range])
        try FuzzFailure.require(reparsed.map { identical($0, tree) } == true, "range \(range) does not hold the value the parser sees")
        switch tree {
        case .string(let text):
            try FuzzFailure.require(
                RawJSON.decodeString(bytes, range).map { $0.utf8.elementsEqual(text.utf8) } == true,
                "RawJSON.decodeString differs from the parser at \(range)")
        case .int(let number):
            let decoded = RawJSON.decodeInt(bytes, range)
            try FuzzFailure.require(decoded == number, "RawJSON.decodeInt gives \(decoded.map(String.init) ?? "nil") for \(number)")
        default: break
        }
    }

    /// The members or elements the scanner finds are the tree's, in order.
    static func checkChildren(_ bytes: [UInt8], _ range: Range<Int>, of tree: JSON) throws(FuzzFailure) {
        switch tree {
        case .object(let fields):
            guard let members = try? RawJSON.members(of: bytes, in: range) else { throw FuzzFailure("RawJSON.members refuses an object") }
            try FuzzFailure.require(members.count == fields.count, "RawJSON.members found \(members.count) of \(fields.count)")
            for (member, field) in zip(members, fields) {
                try FuzzFailure.require(member.key.utf8.elementsEqual(field.0.utf8), "member key \(member.key) is \(field.0) to the parser")
                try Self.checkRange(bytes, member.value, holds: field.1)
            }
        case .array(let items):
            guard let elements = try? RawJSON.elements(of: bytes, in: range) else { throw FuzzFailure("RawJSON.elements refuses an array") }
            try FuzzFailure.require(elements.count == items.count, "RawJSON.elements found \(elements.count) of \(items.count)")
            for (element, item) in zip(elements, items) { try Self.checkRange(bytes, element, holds: item) }
        default: break
        }
    }
}
