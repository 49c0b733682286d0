// The word loads generated method lookups compare against constants.

extension UnsafeRawBufferPointer {
    /// The 8 bytes at `offset` as a little-endian integer, whatever the machine's byte order,
    /// so generated constants mean the same bytes everywhere. The caller guarantees
    /// `offset + 8 <= count` (generated code checks the length first).
    @inlinable
    public func routeWord(at offset: Int) -> UInt64 {
        UInt64(littleEndian: self.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
