// Reads WebSocket frames (RFC 6455 §5) from a connection's bytes into whole messages: each
// payload unmasked straight into its message's bytes, fragments joined, control frames handed
// over as they come between them. fpool's hot path uses it instead of NIO's frame decoder and
// aggregator: one copy per message, no frame objects, no pipeline hop per frame.

import NIOCore

/// What a connection's bytes held.
public enum WebSocketEvent: Sendable, Equatable {
    /// A whole text or binary message, unmasked and reassembled.
    case message([UInt8])
    /// A ping and its payload (a pong must echo it).
    case ping([UInt8])
    case pong
    /// The peer's close frame, with its status code when it sent one. Nothing after it is read.
    case close(code: UInt16?)
}

/// Bytes that break the protocol or a size limit: the close code to send before closing
/// (1002 protocol error, 1009 too big, RFC 6455 §7.4.1) and what was wrong.
public struct WebSocketViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// The status code for the close frame sent before hanging up: 1002, 1009 or 1013.
    public let closeCode: UInt16
    /// What was wrong, for logs; it is not sent to the peer.
    public let reason: String

    static func protocolError(_ reason: String) -> Self { Self(closeCode: 1002, reason: reason) }
    static func tooBig(_ reason: String) -> Self { Self(closeCode: 1009, reason: reason) }
    /// The server cannot take the message now (1013 Try Again Later, RFC 6455 §11.7).
    public static func overloaded(_ reason: String) -> Self { Self(closeCode: 1013, reason: reason) }
    /// The peer broke a rule of the server's other than size (1008 Policy Violation).
    public static func policy(_ reason: String) -> Self { Self(closeCode: 1008, reason: reason) }

    /// `reason (close code N)`.
    public var description: String { "\(self.reason) (close code \(self.closeCode))" }
}

/// Which frames a peer may send: a client's are always masked, a server's never (RFC 6455
/// §5.1). Lotus's own server and client (gorilla) close on the other kind, and so does fpool.
public enum WebSocketPeerMasking: Sendable {
    /// The peer is a client.
    case masked
    /// The peer is a server.
    case unmasked
    /// Either (frames read outside a connection, such as a recorded stream).
    case either
}

/// One connection's frame reader. A value type owned by the connection's handler, on its loop.
public struct WebSocketFrameReader {
    /// The largest single frame accepted; a longer one is refused from its header alone.
    public let maxFrameSize: Int
    /// The largest reassembled message accepted.
    public let maxMessageSize: Int
    /// The most frames one message may come in (tiny fragments cost a frame's work each).
    public let maxFragments: Int
    /// Which frames the peer may send; a frame of the other kind is a protocol error (1002).
    public let peerMasking: WebSocketPeerMasking
    /// Frames of the message being reassembled so far.
    private var fragmentCount = 0
    /// Bytes of a frame whose end has not arrived yet.
    private var partial: ByteBuffer?
    /// The unmasked fragments of a message whose last frame has not arrived yet.
    private var fragments: [UInt8]?
    /// After a close frame or a violation nothing more is read.
    private var finished = false

    /// A reader for one connection, before its first byte.
    ///
    /// - Parameters:
    ///   - maxFrameSize: the largest frame payload accepted, in bytes; a larger one is refused with 1009.
    ///   - maxMessageSize: the largest reassembled message, in bytes; a larger one is refused with 1009.
    ///   - maxFragments: the most frames one message may come in; more are refused with 1009.
    ///   - peerMasking: which frames the peer may send (masked for a client, unmasked for a server).
    public init(maxFrameSize: Int, maxMessageSize: Int, maxFragments: Int = 1 << 20, peerMasking: WebSocketPeerMasking) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.maxFragments = maxFragments
        self.peerMasking = peerMasking
    }

    /// True after a close frame or a violation: nothing more will be read.
    public var isFinished: Bool { self.finished }

    /// Bytes kept for a frame or message whose end has not arrived yet.
    public var bufferedBytes: Int { (self.partial?.readableBytes ?? 0) + (self.fragments?.count ?? 0) }

    /// Reads every whole frame of `bytes` (behind the bytes kept from earlier reads), giving
    /// each event to `deliver` in order, and keeps an incomplete last frame for the next read.
    ///
    /// - Throws: `WebSocketViolation` on the first frame that breaks the protocol or a limit;
    ///   the events before it were delivered, and nothing more is read.
    public mutating func read(_ bytes: ByteBuffer, _ deliver: (WebSocketEvent) -> Void) throws(WebSocketViolation) {
        guard !self.finished else { return }
        var buffer: ByteBuffer
        if var kept = self.partial {
            self.partial = nil
            kept.writeImmutableBuffer(bytes)
            buffer = kept
        } else {
            buffer = bytes
        }
        do {
            try self.readFrames(&buffer, deliver)
        } catch {
            self.finished = true
            self.fragments = nil
            throw error
        }
        if buffer.readableBytes > 0 && !self.finished {
            buffer.discardReadBytes()
            self.partial = buffer
        }
    }

    private mutating func readFrames(_ buffer: inout ByteBuffer, _ deliver: (WebSocketEvent) -> Void) throws(WebSocketViolation) {
        while !self.finished, let header = try self.header(buffer) {
            guard buffer.readableBytes - header.size >= header.length else { return }
            buffer.moveReaderIndex(forwardBy: header.size)
            try self.take(header, &buffer, deliver)
        }
    }

    /// The header at the start of `buffer`, nil until all of it has arrived.
    private func header(_ buffer: ByteBuffer) throws(WebSocketViolation) -> FrameHeader? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self), let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        guard first & 0x70 == 0 else { throw .protocolError("reserved bits set, but no extension was agreed") }
        let opcode = first & 0x0F
        let masked = second & 0x80 != 0
        var size = 2
        var length: Int
        switch second & 0x7F {
        case 126:
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            size += 2
        case 127:
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            guard extended >> 63 == 0 else { throw .protocolError("a payload length with its most significant bit set") }
            length = extended > UInt64(Int.max) ? Int.max : Int(extended)
            size += 8
        case let short:
            length = Int(short)
        }
        var mask: UInt32? = nil
        if masked {
            guard let key = buffer.getInteger(at: start + size, as: UInt32.self) else { return nil }
            mask = key
            size += 4
        }
        let header = FrameHeader(fin: first & 0x80 != 0, opcode: opcode, length: length, mask: mask, size: size)
        try self.check(header)
        return header
    }

    /// Refuses a frame from its header alone: its bytes need not arrive first.
    private func check(_ header: FrameHeader) throws(WebSocketViolation) {
        switch self.peerMasking {
        case .masked: guard header.mask != nil else { throw .protocolError("an unmasked frame from a client") }
        case .unmasked: guard header.mask == nil else { throw .protocolError("a masked frame from a server") }
        case .either: break
        }
        switch header.opcode {
        case Opcode.continuation:
            guard let fragments = self.fragments else { throw .protocolError("a continuation frame with no message to continue") }
            guard header.length <= self.maxMessageSize - fragments.count else {
                throw .tooBig("a fragmented message over \(self.maxMessageSize) bytes")
            }
            guard self.fragmentCount < self.maxFragments else { throw .tooBig("a message in more than \(self.maxFragments) frames") }
        case Opcode.text, Opcode.binary:
            guard self.fragments == nil else { throw .protocolError("a new message before the last one's final fragment") }
            guard header.length <= self.maxMessageSize else {
                throw .tooBig("a message of \(header.length) bytes, over \(self.maxMessageSize)")
            }
        case Opcode.close, Opcode.ping, Opcode.pong:
            guard header.fin else { throw .protocolError("a fragmented control frame") }
            guard header.length <= 125 else { throw .protocolError("a control frame of \(header.length) bytes, over 125") }
        default:
            throw .protocolError("unknown opcode \(header.opcode)")
        }
        guard header.length <= self.maxFrameSize else { throw .tooBig("a frame of \(header.length) bytes, over \(self.maxFrameSize)") }
    }

    /// Consumes the payload of a checked frame whose bytes have all arrived.
    private mutating func take(_ header: FrameHeader, _ buffer: inout ByteBuffer, _ deliver: (WebSocketEvent) -> Void)
        throws(WebSocketViolation)
    {
        switch header.opcode {
        case Opcode.text, Opcode.binary, Opcode.continuation:
            var message: [UInt8]
            if let fragments = self.fragments {
                // Left to grow geometrically: an exact reserve per fragment would copy the whole
                // message again for every fragment (quadratic in its size).
                message = fragments
                self.fragments = nil
                self.fragmentCount += 1
            } else {
                message = []
                message.reserveCapacity(header.length)
                self.fragmentCount = 1
            }
            Self.appendUnmasked(&buffer, header, to: &message)
            if header.fin { deliver(.message(message)) } else { self.fragments = message }
        case Opcode.ping:
            var payload: [UInt8] = []
            Self.appendUnmasked(&buffer, header, to: &payload)
            deliver(.ping(payload))
        case Opcode.pong:
            buffer.moveReaderIndex(forwardBy: header.length)
            deliver(.pong)
        default:  // close, the only other opcode `check` lets through
            var payload: [UInt8] = []
            Self.appendUnmasked(&buffer, header, to: &payload)
            guard payload.count != 1 else { throw .protocolError("a close frame with a one-byte payload") }
            self.finished = true
            deliver(.close(code: payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil))
        }
    }

    /// Copies the payload into `bytes`, unmasking as it goes (one pass over the bytes).
    private static func appendUnmasked(_ buffer: inout ByteBuffer, _ header: FrameHeader, to bytes: inout [UInt8]) {
        let length = header.length
        guard length > 0 else { return }
        buffer.readWithUnsafeReadableBytes { source in
            let start = bytes.count
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[..<length]))
            if let mask = header.mask {
                bytes.withUnsafeMutableBytes { target in
                    WebSocketMask.apply(mask, to: UnsafeMutableRawBufferPointer(rebasing: target[start...]))
                }
            }
            return length
        }
    }

    struct FrameHeader {
        let fin: Bool
        let opcode: UInt8
        let length: Int
        /// The masking key as read big-endian from the wire.
        let mask: UInt32?
        /// Bytes of the header itself.
        let size: Int
    }

    /// RFC 6455 §5.2 opcodes.
    public enum Opcode {
        /// A further fragment of the message being reassembled.
        public static let continuation: UInt8 = 0x0
        /// The first (or only) frame of a text message; JSON-RPC frames are text.
        public static let text: UInt8 = 0x1
        /// The first (or only) frame of a binary message.
        public static let binary: UInt8 = 0x2
        /// A close frame, optionally with a status code and reason.
        public static let close: UInt8 = 0x8
        /// A ping; the receiver answers with a pong echoing its payload.
        public static let ping: UInt8 = 0x9
        /// A pong, the answer to a ping.
        public static let pong: UInt8 = 0xA
    }
}
