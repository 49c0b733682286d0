// The raw JSON-RPC frame reader under fuzz: it must accept exactly the frames the tree parser
// reads as an object whose method (if any) is a string, and find the parts the tree holds.

import LotusWire

enum RPCFrameFuzzTarget {
    static let target = FuzzTarget(
        name: "rpc-frame",
        seeds: RPCSeedFrames.frames.map { Array($0.utf8) },
        mutator: Mutator(
            dictionary: RPCSeedFrames.jsonTokens, nesting: RPCSeedFrames.jsonNesting, depthLimit: 512,
            delimiters: RPCSeedFrames.jsonDelimiters,
            maxLength: 16 << 10),
        ciIterations: 5000,
        check: Self.check)

    static func check(_ bytes: [UInt8]) throws(FuzzFailure) -> String {
        let read = Result { () throws(RPCError) in try RawRPCFrame(bytes) }
        let tree = try? JSON.parse(bytes)
        // The tree-based classifier must not trap either, whatever it decides.
        _ = tree.map { try? RPCFrame($0) }
        guard case .object(let fields)? = tree, fields.allSatisfy({ $0.0 != "method" || $0.1.string != nil }) else {
            switch read {
            case .success: throw FuzzFailure("RawRPCFrame accepts what is no object with a string method")
            case .failure(let error):
                try FuzzFailure.require(error.code == -32700, "refused with \(error), not a -32700 parse error")
                return "refused: \(reasonKind(error.message))"
            }
        }
        let frame: RawRPCFrame
        switch read {
        case .success(let accepted): frame = accepted
        case .failure(let error): throw FuzzFailure("RawRPCFrame refuses an object whose methods are strings: \(error)")
        }
        // Later duplicates win, as in Go's decoder.
        func last(_ key: String) -> JSON? { fields.last { $0.0 == key }?.1 }
        func nonNull(_ key: String) -> JSON? {
            // Not a ternary with `nil`: JSON is ExpressibleByNilLiteral, so that nil is `.null`.
            guard let value = last(key), !value.isNull else { return nil }
            return value
        }
        try Self.require(bytes, frame.id, holds: nonNull("id"), "id")
        try Self.require(bytes, frame.params, holds: nonNull("params"), "params")
        try Self.require(bytes, frame.result, holds: last("result"), "result")
        try Self.require(bytes, frame.error, holds: nonNull("error"), "error")
        if frame.params == nil { try FuzzFailure.require(frame.paramBytes.elementsEqual("[]".utf8), "absent params are not []") }
        let method = last("method")?.string
        try FuzzFailure.require(
            frame.methodName?.utf8.elementsEqual(method?.utf8 ?? "".utf8) ?? (method == nil),
            "method \(frame.methodName ?? "nil") is \(method ?? "nil") to the parser")
        if case .int(let id)? = nonNull("id") {
            try FuzzFailure.require(frame.intID == id, "intID \(frame.intID.map(String.init) ?? "nil") for id \(id)")
        }
        if let id = frame.intID {
            try FuzzFailure.require(nonNull("id").map { identical($0, .int(id)) } == true, "intID \(id) for another id")
        }
        if let error = nonNull("error") {
            let decoded = frame.decodedError
            if case .int(let code)? = error["code"] {
                try FuzzFailure.require(decoded?.code == code, "error code \(decoded?.code ?? 0) for \(code)")
            }
            if let message = error["message"]?.string {
                try FuzzFailure.require(decoded?.message.utf8.elementsEqual(message.utf8) == true, "error message differs")
            }
        }
        let parts = [frame.id, frame.method, frame.params, frame.result, frame.error].map { $0 == nil ? "-" : "+" }
        return "accepted: \(parts.joined())\(frame.methodHasEscapes ? " escaped" : "")"
    }

    private static func require(_ bytes: [UInt8], _ range: Range<Int>?, holds value: JSON?, _ part: String) throws(FuzzFailure) {
        switch (range, value) {
        case (nil, nil): return
        case (let range?, let value?):
            let reparsed = try? JSON.parse(bytes[range])
            try FuzzFailure.require(reparsed.map { identical($0, value) } == true, "the \(part) range does not hold the \(part)")
        default: throw FuzzFailure("the frame's \(part) is \(range.map { "\($0)" } ?? "nil"), the parser's \(value?.description ?? "nil")")
        }
    }
}
