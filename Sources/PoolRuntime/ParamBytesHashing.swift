// Hashing a call's raw params for the cache and the read flights: a key is looked up on every
// read, and hashing an array byte by byte costs several times more than hashing its bytes at once.

extension Hasher {
    /// Feeds the params' bytes in one piece (with their count, as an array's own hash does).
    mutating func combine(paramBytes params: [UInt8]) {
        self.combine(params.count)
        params.withUnsafeBytes { self.combine(bytes: $0) }
    }
}
