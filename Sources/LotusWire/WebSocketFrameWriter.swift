// Writes WebSocket frames (RFC 6455 §5.2) as one buffer each: header and payload together, the
// payload masked as it is copied when the frame goes from a client. fpool's hot path uses it
// instead of NIO's frame encoder, which writes a separate header buffer for most frames.

import NIOCore

/// Frames for a connection's socket.
public enum WebSocketFrameWriter {
    /// A text message in one frame.
    public static func text(_ payload: [UInt8], masked: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        payload.withUnsafeBytes { Self.frame(opcode: 0x1, fin: true, payload: $0, masked: masked, allocator: allocator) }
    }

    /// One frame; `masked` draws a fresh masking key (a client's frames must be masked, a server's must not be).
    public static func frame(opcode: UInt8, fin: Bool, payload: UnsafeRawBufferPointer, masked: Bool, allocator: ByteBufferAllocator)
        -> ByteBuffer
    {
        let length = payload.count
        let lengthBytes = length <= 125 ? 0 : length <= 0xFFFF ? 2 : 8
        var buffer = allocator.buffer(capacity: 2 + lengthBytes + (masked ? 4 : 0) + length)
        buffer.writeInteger((fin ? 0x80 : 0) | opcode)
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch lengthBytes {
        case 0: buffer.writeInteger(maskBit | UInt8(length))
        case 2:
            buffer.writeInteger(maskBit | 126)
            buffer.writeInteger(UInt16(length))
        default:
            buffer.writeInteger(maskBit | 127)
            buffer.writeInteger(UInt64(length))
        }
        guard masked else {
            buffer.writeBytes(payload)
            return buffer
        }
        let mask = MaskingKeySource.shared.nextKey()
        buffer.writeInteger(mask)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
            let written = UnsafeMutableRawBufferPointer(rebasing: target[..<length])
            written.copyMemory(from: payload)
            WebSocketMask.apply(mask, to: written)
            return length
        }
        return buffer
    }

    /// A close frame with its status code (RFC 6455 §7.4).
    public static func close(code: UInt16?, masked: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        let payload: [UInt8] = code.map { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] } ?? []
        return payload.withUnsafeBytes { Self.frame(opcode: 0x8, fin: true, payload: $0, masked: masked, allocator: allocator) }
    }
}

/// The masking of RFC 6455 §5.3: each byte XORed with the key's byte at its offset mod 4.
enum WebSocketMask {
    /// Masks or unmasks `bytes` in place; `key` is the 4 key bytes read big-endian, as on the wire.
    static func apply(_ key: UInt32, to bytes: UnsafeMutableRawBufferPointer) {
        var offset = 0
        let count = bytes.count
        // Eight bytes at a time: the key repeated twice, in memory order.
        let wide = UInt64(key.bigEndian) | UInt64(key.bigEndian) << 32
        while offset + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            bytes.storeBytes(of: word ^ wide, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < count {
            bytes[offset] ^= UInt8(truncatingIfNeeded: key >> (24 - ((offset & 3) << 3)))
            offset += 1
        }
    }
}
