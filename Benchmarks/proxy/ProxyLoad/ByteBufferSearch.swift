// Finding a byte string in a received frame without parsing it: the mix client tells channel
// values from answers, and reads an actor's Head, this way on its hot path.

import NIOCore

extension ByteBuffer {
    /// The reader offset just past the first `marker` in the readable bytes, or nil.
    func offset(after marker: [UInt8]) -> Int? {
        guard let first = marker.first else { return 0 }
        return self.withUnsafeReadableBytes { raw -> Int? in
            guard raw.count >= marker.count else { return nil }
            var index = 0
            let last = raw.count - marker.count
            while index <= last {
                if raw[index] == first {
                    var matched = 1
                    while matched < marker.count, raw[index + matched] == marker[matched] { matched += 1 }
                    if matched == marker.count { return index + marker.count }
                }
                index += 1
            }
            return nil
        }
    }

    /// The text from `offset` (relative to the reader index) up to the next `"`: the rest of a
    /// JSON string whose opening quote ends a marker. Nil when no quote follows.
    func stringValue(at offset: Int) -> String? {
        guard let bytes = self.getBytes(at: self.readerIndex + offset, length: self.readableBytes - offset),
            let end = bytes.firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
