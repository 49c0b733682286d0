// A method's ordered parameter kinds, packed into one word so route entries stay plain data.

/// Up to 15 parameter kinds in order: the low 4 bits hold the count, each following nibble a
/// `ParamKind` code. A route table of these needs no heap storage per entry.
public struct ParamKinds: Sendable, Hashable, RandomAccessCollection, CustomStringConvertible {
    /// The most parameters a route can describe (no Lotus method comes close).
    public static let capacity = 15

    /// The packed word: count in the low nibble, then one nibble per kind. Generated code writes it as a literal.
    public let packed: UInt64

    /// Wraps an already packed value, as generated code writes it.
    public init(packed: UInt64) {
        self.packed = packed
    }

    /// Packs `kinds`; at most `capacity` of them (the spec validator enforces this first).
    public init(_ kinds: [ParamKind]) {
        precondition(kinds.count <= ParamKinds.capacity, "a route has at most \(ParamKinds.capacity) params")
        var packed = UInt64(kinds.count)
        for (position, kind) in kinds.enumerated() {
            packed |= UInt64(kind.rawValue) << (4 * (position + 1))
        }
        self.packed = packed
    }

    /// Always 0: positions are the method's zero-based parameter positions.
    public var startIndex: Int { 0 }
    /// The number of parameters, read from the low nibble.
    public var endIndex: Int { Int(self.packed & 0xF) }

    /// The kind of the parameter at zero-based `position`; traps when `position` is outside `0..<count`.
    public subscript(position: Int) -> ParamKind {
        precondition(position >= 0 && position < self.endIndex, "param position out of range")
        let code = UInt8(truncatingIfNeeded: self.packed >> (4 * (position + 1))) & 0xF
        // Only `init(_:)` and generated code (which encodes valid kinds) build these.
        return ParamKind(rawValue: code) ?? .other
    }

    /// The first position holding `kind`, if any.
    public func position(of kind: ParamKind) -> Int? {
        self.firstIndex(of: kind)
    }

    /// The union of the retry tags the parameters earn.
    public var retryTags: RetryTags {
        self.reduce(into: RetryTags()) { $0.formUnion($1.retryTags) }
    }

    /// The spec spelling: `()` or `(Address,TipSetKey)`.
    public var description: String {
        "(" + self.map(\.specWord).joined(separator: ",") + ")"
    }
}
