// Writes WebSocket frames (RFC 6455 §5.2) as one buffer each: header and payload together, the
// payload masked in place when the frame goes from a client. fpool's hot path uses it
// instead of NIO's frame encoder, which writes a separate header buffer for most frames.

import NIOCore

/// Frames for a connection's socket.
public enum WebSocketFrameWriter {
    /// A text message in one frame.
    public static func text(_ payload: [UInt8], masked: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        Self.frame(opcode: WebSocketFrameReader.Opcode.text, fin: true, payload: payload, masked: masked, allocator: allocator)
    }

    /// A text message in one frame whose payload `writePayload` writes straight into the
    /// frame's buffer (about `capacity` bytes): no array to build and copy first.
    public static func text(
        masked: Bool, capacity: Int, allocator: ByteBufferAllocator, _ writePayload: (inout ByteBuffer) -> Void
    ) -> ByteBuffer {
        Self.frame(
            firstByte: 0x80 | WebSocketFrameReader.Opcode.text, masked: masked, capacity: capacity, allocator: allocator, writePayload)
    }

    /// One frame; `masked` draws a fresh masking key (a client's frames must be masked, a server's must not be).
    public static func frame(
        opcode: UInt8, fin: Bool, payload: some Collection<UInt8>, masked: Bool, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        Self.frame(firstByte: (fin ? 0x80 : 0) | opcode, masked: masked, capacity: payload.count, allocator: allocator) {
            $0.writeBytes(payload)
        }
    }

    /// A close frame with its status code (RFC 6455 §7.4).
    public static func close(code: UInt16?, masked: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        Self.frame(firstByte: 0x80 | WebSocketFrameReader.Opcode.close, masked: masked, capacity: 2, allocator: allocator) { buffer in
            if let code { buffer.writeInteger(code) }
        }
    }

    /// A ping with no payload.
    public static func ping(masked: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        Self.frame(opcode: WebSocketFrameReader.Opcode.ping, fin: true, payload: [], masked: masked, allocator: allocator)
    }

    /// The pong that answers a ping: its payload echoed (RFC 6455 §5.5.3).
    public static func pong(echoing payload: [UInt8], masked: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        Self.frame(opcode: WebSocketFrameReader.Opcode.pong, fin: true, payload: payload, masked: masked, allocator: allocator)
    }

    /// Answers a protocol violation: a close frame with its code, and the connection closed at
    /// once, whether or not the peer reads it (RFC 6455 §7.1.7).
    public static func hangUp(_ channel: any Channel, after violation: WebSocketViolation, masked: Bool) {
        channel.writeAndFlush(Self.close(code: violation.closeCode, masked: masked, allocator: channel.allocator), promise: nil)
        channel.close(promise: nil)
    }

    /// The largest frame header: 2 bytes, an 8-byte length, a 4-byte masking key.
    static let maxHeaderSize = 14

    /// Writes the payload after room for the largest header, then the header (now that the
    /// length is known) right in front of it, and masks the payload in place.
    private static func frame(
        firstByte: UInt8, masked: Bool, capacity: Int, allocator: ByteBufferAllocator, _ writePayload: (inout ByteBuffer) -> Void
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Self.maxHeaderSize + capacity)
        buffer.moveWriterIndex(forwardBy: Self.maxHeaderSize)
        buffer.moveReaderIndex(forwardBy: Self.maxHeaderSize)
        writePayload(&buffer)
        let length = buffer.readableBytes
        let lengthBytes = length <= 125 ? 0 : length <= 0xFFFF ? 2 : 8
        let headerSize = 2 + lengthBytes + (masked ? 4 : 0)
        var at = Self.maxHeaderSize - headerSize
        buffer.moveReaderIndex(to: at)
        at += buffer.setInteger(firstByte, at: at)
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch lengthBytes {
        case 0: at += buffer.setInteger(maskBit | UInt8(length), at: at)
        case 2:
            at += buffer.setInteger(maskBit | 126, at: at)
            at += buffer.setInteger(UInt16(length), at: at)
        default:
            at += buffer.setInteger(maskBit | 127, at: at)
            at += buffer.setInteger(UInt64(length), at: at)
        }
        guard masked else { return buffer }
        let mask = MaskingKeySource.shared.nextKey()
        buffer.setInteger(mask, at: at)
        buffer.withUnsafeMutableReadableBytes { frame in
            WebSocketMask.apply(mask, to: UnsafeMutableRawBufferPointer(rebasing: frame[headerSize...]))
        }
        return buffer
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
