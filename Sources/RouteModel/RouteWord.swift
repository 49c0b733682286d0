// The loads generated method lookups compare against constants.

extension UnsafeRawBufferPointer {
    /// The 8 bytes at `offset` as a little-endian integer, whatever the machine's byte order,
    /// so generated constants mean the same bytes everywhere. The caller guarantees
    /// `offset + 8 <= count` (generated code checks the length first).
    ///
    /// Always inlined: a lookup function holds hundreds of these, too many for the optimizer's
    /// own inlining budget, and a call per comparison doubles the lookup's cost.
    @inlinable @inline(__always)
    public func routeWord(at offset: Int) -> UInt64 {
        UInt64(littleEndian: self.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The byte at `offset`; the caller guarantees `offset < count`. Always inlined, as above.
    @inlinable @inline(__always)
    public func routeByte(at offset: Int) -> UInt8 {
        self.load(fromByteOffset: offset, as: UInt8.self)
    }
}
