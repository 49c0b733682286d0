// A JSON value that keeps object key order, as Lotus's Go structs serialise them.

/// Any JSON value. Integers stay exact (`int`), so epochs, nonces and request ids round-trip.
public enum JSON: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    /// Key order is kept as written.
    case object([(String, JSON)])

    /// Structural equality: numbers compare by value across `int` and `double` (`1 == 1.0`), and objects
    /// by their members whatever their order.
    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b.first { $0.0 == key }?.1 == value }
        default: return false
        }
    }

    /// The object member named `key` (the first one, if the object repeats it); nil when absent or not an object.
    public subscript(key: String) -> JSON? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    /// The array element at `index`; nil when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        guard case .array(let items) = self, index >= 0, index < items.count else { return nil }
        return items[index]
    }

    /// The string, when this value is one; nil otherwise.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer value: an `int`, or a `double` with no fractional part below 9e15 in magnitude (where
    /// doubles are still exact); nil otherwise.
    public var int: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value == value.rounded() && abs(value) < 9e15: return Int64(value)
        default: return nil
        }
    }

    /// The flag, when this value is a boolean; nil otherwise.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, when this value is an array; nil otherwise.
    public var array: [JSON]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// True only for `null` (an absent member is nil, not `null`).
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Compact JSON text.
    public var description: String { String(decoding: self.encoded(), as: UTF8.self) }

    /// Compact JSON bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSONWriter.write(self, into: &out)
        return out
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// `"text"` as a JSON string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `42` as an exact JSON integer.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// `true` or `false` as a JSON boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `[a, b]` as a JSON array.
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    /// `["key": value]` as a JSON object, members in the order written (unlike a Swift dictionary).
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(elements) }
    /// `nil` as JSON `null`.
    public init(nilLiteral: ()) { self = .null }
}
