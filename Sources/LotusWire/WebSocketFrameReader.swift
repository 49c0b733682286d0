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
    /// A text or binary message over the size limit, skipped as it came without being kept
    /// (`WebSocketFrameReader.skipsOversizedMessages`): its size, and its first and last 64
    /// bytes, where go-jsonrpc writes an answer's id (last before v0.3.2, first since).
    case oversized(bytes: Int, head: [UInt8], tail: [UInt8])
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
    /// A message over the limit is skipped, not refused (unmasked frames only: a server's).
    public let skipsOversizedMessages: Bool
    /// The oversized message being skipped.
    private var skipping: Skip?

    /// What is left of an oversized message: the bytes of its current frame still to come,
    /// whether that frame is its last, and what was seen of it.
    private struct Skip {
        var frameRemaining: Int
        var final: Bool
        var bytes = 0
        var head: [UInt8] = []
        var tail: [UInt8] = []

        /// Where go-jsonrpc's `{"id":N,` or `,"id":N}` is found; the result may be any size.
        static let keptBytes = 64

        init(frameRemaining: Int, final: Bool) {
            (self.frameRemaining, self.final) = (frameRemaining, final)
        }

        mutating func saw(_ source: UnsafeRawBufferPointer) {
            if self.head.count < Self.keptBytes { self.head.append(contentsOf: source.prefix(Self.keptBytes - self.head.count)) }
            self.bytes += source.count
            self.tail.append(contentsOf: source.suffix(Self.keptBytes))
            if self.tail.count > Self.keptBytes { self.tail.removeFirst(self.tail.count - Self.keptBytes) }
        }
    }

    /// A reader for one connection, before its first byte.
    ///
    /// - Parameters:
    ///   - maxFrameSize: the largest frame payload accepted, in bytes; a larger one is refused with 1009.
    ///   - maxMessageSize: the largest reassembled message, in bytes; a larger one is refused with 1009.
    ///   - maxFragments: the most frames one message may come in; more are refused with 1009
    ///     (or skipped, see `skipsOversizedMessages`).
    ///   - peerMasking: which frames the peer may send (masked for a client, unmasked for a server).
    ///   - skipsOversizedMessages: a text or binary message over `maxMessageSize` (or in a frame
    ///     over `maxFrameSize`) from an unmasked peer is read past and reported as `.oversized`
    ///     instead of refused: one answer too large for a daemon's connection need not close it
    ///     under every other call it carries.
    public init(
        maxFrameSize: Int, maxMessageSize: Int, maxFragments: Int = 1 << 20, peerMasking: WebSocketPeerMasking,
        skipsOversizedMessages: Bool = false
    ) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.maxFragments = maxFragments
        self.peerMasking = peerMasking
        self.skipsOversizedMessages = skipsOversizedMessages
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
        while !self.finished {
            if let skip = self.skipping, skip.frameRemaining > 0 || skip.final {
                guard self.skip(&buffer, deliver) else { return }
                continue
            }
            guard let header = try self.header(buffer) else { return }
            if self.startsSkipping(header) {
                buffer.moveReaderIndex(forwardBy: header.size)
                continue
            }
            guard buffer.readableBytes - header.size >= header.length else { return }
            buffer.moveReaderIndex(forwardBy: header.size)
            try self.take(header, &buffer, deliver)
        }
    }

    /// Whether a checked frame is skipped: a frame of the message being skipped, or the one
    /// that takes a message over the limits (what was kept of it is dropped then).
    private mutating func startsSkipping(_ header: FrameHeader) -> Bool {
        guard self.skips(header) else { return false }
        switch header.opcode {
        case Opcode.continuation:
            if var skip = self.skipping {
                (skip.frameRemaining, skip.final) = (header.length, header.fin)
                self.skipping = skip
                return true
            }
            guard let fragments = self.fragments, !self.fits(header, after: fragments.count) else { return false }
            var skip = Skip(frameRemaining: header.length, final: header.fin)
            fragments.withUnsafeBytes { skip.saw($0) }
            self.fragments = nil
            self.skipping = skip
            return true
        case Opcode.text, Opcode.binary:
            guard !self.fits(header, after: 0) else { return false }
            self.skipping = Skip(frameRemaining: header.length, final: header.fin)
            return true
        default:
            return false
        }
    }

    /// Whether an oversized message in `header`'s frames would be skipped rather than refused.
    private func skips(_ header: FrameHeader) -> Bool {
        self.skipsOversizedMessages && header.mask == nil
    }

    /// Whether a data frame fits the limits after `kept` bytes of its message.
    private func fits(_ header: FrameHeader, after kept: Int) -> Bool {
        header.length <= self.maxFrameSize && header.length <= self.maxMessageSize - kept
            && (header.opcode != Opcode.continuation || self.fragmentCount < self.maxFragments)
    }

    /// Reads past what has come of the skipped message's current frame; false when more is
    /// needed. At the end of its last frame the message is reported.
    private mutating func skip(_ buffer: inout ByteBuffer, _ deliver: (WebSocketEvent) -> Void) -> Bool {
        guard var skip = self.skipping else { return true }
        let count = min(buffer.readableBytes, skip.frameRemaining)
        if count > 0 {
            buffer.readWithUnsafeReadableBytes { source in
                skip.saw(UnsafeRawBufferPointer(rebasing: source[..<count]))
                return count
            }
            skip.frameRemaining -= count
        }
        guard skip.frameRemaining == 0 else {
            self.skipping = skip
            return false
        }
        // Not the last frame: the next header (a control frame may come first) says how much more.
        self.skipping = skip.final ? nil : skip
        if skip.final { deliver(.oversized(bytes: skip.bytes, head: skip.head, tail: skip.tail)) }
        return true
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
        // An oversized message from a peer whose messages are skipped is not refused.
        let skips = self.skips(header)
        switch header.opcode {
        case Opcode.continuation:
            if self.skipping != nil {
                guard skips else { throw .protocolError("a masked frame in a message from a server") }
                return
            }
            guard let fragments = self.fragments else { throw .protocolError("a continuation frame with no message to continue") }
            // Past its limits, the message is skipped (`startsSkipping`), not refused.
            if skips { return }
            guard header.length <= self.maxMessageSize - fragments.count else {
                throw .tooBig("a fragmented message over \(self.maxMessageSize) bytes")
            }
            guard self.fragmentCount < self.maxFragments else { throw .tooBig("a message in more than \(self.maxFragments) frames") }
        case Opcode.text, Opcode.binary:
            guard self.fragments == nil, self.skipping == nil else {
                throw .protocolError("a new message before the last one's final fragment")
            }
            if skips { return }
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
