// Exact comparison of JSON trees for the differential checks: JSON's own `==` finds object
// keys by lookup (a tree with a duplicate key is not equal to itself) and mixes ints with doubles.

import LotusWire

/// True when `a` and `b` are the same tree: order, duplicates, int or double, bytes of strings.
func identical(_ a: JSON, _ b: JSON) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
    case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
    case (.object(let x), .object(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { $0.0.utf8.elementsEqual($1.0.utf8) && identical($0.1, $1.1) }
    default: return false
    }
}

/// The tree the writer's output reads back as: it writes a non-finite double (`1e400`) as null.
func asWritten(_ value: JSON) -> JSON {
    switch value {
    case .double(let number) where !number.isFinite: return .null
    case .array(let items): return .array(items.map(asWritten))
    case .object(let fields): return .object(fields.map { ($0.0, asWritten($0.1)) })
    default: return value
    }
}

extension JSON {
    /// The kind of value, for behaviour signatures.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .double: "double"
        case .string: "string"
        case .array(let items): items.isEmpty ? "[]" : "array"
        case .object(let fields): fields.isEmpty ? "{}" : "object"
        }
    }
}
