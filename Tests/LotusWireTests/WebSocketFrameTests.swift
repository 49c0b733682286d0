// fpool's WebSocket frame reader and writer, checked against NIO's own frame codec (what
// fpool used before): the same bytes either way, every split of a stream read the same,
// every protocol violation refused with its close code.

import LotusWire
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@Suite struct WebSocketFrameTests {
    static let lengths = [0, 1, 7, 8, 9, 17, 125, 126, 127, 65535, 65536, 70001]

    @Test(arguments: Self.lengths, [false, true])
    func framesWrittenAreFramesNIOReads(length: Int, masked: Bool) throws {
        let payload = Self.payload(length)
        let written = WebSocketFrameWriter.text(payload, masked: masked, allocator: ByteBufferAllocator())
        let frames = try Self.nioDecoded(written)
        #expect(frames.count == 1)
        #expect(frames.first?.opcode == .text)
        #expect(frames.first?.fin == true)
        #expect((frames.first?.maskKey != nil) == masked)
        #expect(frames.first.map { Array($0.unmaskedData.readableBytesView) } == payload)
    }

    /// The same, with the payload written into the frame's own buffer (its header put in front afterwards).
    @Test(arguments: Self.lengths, [false, true])
    func framesWrittenInPlaceAreFramesNIOReads(length: Int, masked: Bool) throws {
        let payload = Self.payload(length)
        let written = WebSocketFrameWriter.text(masked: masked, capacity: 3, allocator: ByteBufferAllocator()) { $0.writeBytes(payload) }
        let frames = try Self.nioDecoded(written)
        #expect(frames.count == 1)
        #expect((frames.first?.maskKey != nil) == masked)
        #expect(frames.first.map { Array($0.unmaskedData.readableBytesView) } == payload)
    }

    @Test func messagesWrittenInPlaceAreTheTreeWritersMessages() throws {
        // Requests against the JSON tree's own writer, a method needing escapes included.
        for method in ["Filecoin.ChainHead", "Filecoin.\"odd\\name\u{1}"] {
            var buffer = ByteBuffer()
            RawRPCFrames.writeRequest(id: 1234, method: method, params: Array(#"["f01000",[]]"#.utf8), into: &buffer)
            #expect(try JSON.parse(Array(buffer.readableBytesView)) == RPCFrames.request(id: 1234, method: method, params: ["f01000", []]))
        }
        var buffer = ByteBuffer()
        RawRPCFrames.writeResult(id: Array("77".utf8), result: Array(#"{"Height":5}"#.utf8), into: &buffer)
        #expect(try JSON.parse(Array(buffer.readableBytesView)) == RPCFrames.result(id: 77, ["Height": 5]))
    }

    @Test(arguments: Self.lengths, [false, true])
    func framesNIOWritesAreRead(length: Int, masked: Bool) throws {
        let payload = Self.payload(length)
        let key: WebSocketMaskingKey? = masked ? WebSocketMaskingKey([0x9C, 0x01, 0xFF, 0x37]) : nil
        let bytes = try Self.nioEncoded([WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: ByteBuffer(bytes: payload))])
        var reader = WebSocketFrameReader(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20, peerMasking: .either)
        var events: [WebSocketEvent] = []
        try reader.read(bytes) { events.append($0) }
        #expect(events == [.message(payload)])
    }

    /// A fragmented message with a ping between its fragments, a pong, a masked message and a
    /// close: read whole, split in two at every byte, and one byte at a time.
    @Test func aStreamSplitAnywhereReadsTheSame() throws {
        let key = WebSocketMaskingKey([1, 2, 3, 4])
        let long = Self.payload(300)
        let stream = try Self.nioEncoded([
            WebSocketFrame(fin: false, opcode: .text, maskKey: key, data: ByteBuffer(string: "hel")),
            WebSocketFrame(fin: true, opcode: .ping, maskKey: key, data: ByteBuffer(string: "are you there")),
            WebSocketFrame(fin: false, opcode: .continuation, maskKey: key, data: ByteBuffer(string: "l")),
            WebSocketFrame(fin: true, opcode: .continuation, maskKey: key, data: ByteBuffer(string: "o")),
            WebSocketFrame(fin: true, opcode: .pong, data: ByteBuffer()),
            WebSocketFrame(fin: true, opcode: .text, maskKey: key, data: ByteBuffer(bytes: long)),
            WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: key, data: ByteBuffer(bytes: [0x03, 0xE8])),
            // After a close nothing more is read.
            WebSocketFrame(fin: true, opcode: .text, maskKey: key, data: ByteBuffer(string: "ignored")),
        ])
        let expected: [WebSocketEvent] = [
            .ping(Array("are you there".utf8)), .message(Array("hello".utf8)), .pong, .message(long), .close(code: 1000),
        ]
        var pieces: [[ByteBuffer]] = [[stream]]
        for split in 0...stream.readableBytes {
            pieces.append([stream.getSlice(at: 0, length: split)!, stream.getSlice(at: split, length: stream.readableBytes - split)!])
        }
        pieces.append((0..<stream.readableBytes).map { stream.getSlice(at: $0, length: 1)! })
        for parts in pieces {
            var reader = WebSocketFrameReader(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20, peerMasking: .either)
            var events: [WebSocketEvent] = []
            for part in parts { try reader.read(part) { events.append($0) } }
            #expect(events == expected, "split into \(parts.map(\.readableBytes))")
        }
    }

    /// gorilla clients send anything over 4 KiB as 4 KiB continuation frames: a message of
    /// thousands of fragments is reassembled whole (in time linear in its size: the fragments
    /// are appended to a geometrically growing array, never copied once per fragment).
    @Test func aMessageInThousandsOfFragmentsIsReassembled() throws {
        let fragment = 4096
        let count = 4000
        let payload = Self.payload(fragment * count)
        var stream = ByteBuffer()
        for index in 0..<count {
            let part = payload[(index * fragment)..<((index + 1) * fragment)]
            let frame = Array(part).withUnsafeBytes {
                WebSocketFrameWriter.frame(
                    opcode: index == 0 ? 0x1 : 0x0, fin: index == count - 1, payload: $0, masked: true, allocator: ByteBufferAllocator())
            }
            stream.writeImmutableBuffer(frame)
        }
        var reader = WebSocketFrameReader(maxFrameSize: 1 << 20, maxMessageSize: 1 << 26, peerMasking: .either)
        var messages: [[UInt8]] = []
        // In socket-sized reads, as NIO hands them over.
        while stream.readableBytes > 0 {
            let read = stream.readSlice(length: min(65536, stream.readableBytes))!
            try reader.read(read) { if case .message(let bytes) = $0 { messages.append(bytes) } }
        }
        #expect(messages.count == 1)
        #expect(messages.first == payload)
        var limited = WebSocketFrameReader(maxFrameSize: 1 << 20, maxMessageSize: 1 << 26, maxFragments: 3, peerMasking: .either)
        let four: [UInt8] = [0x01, 0x80, 0, 0, 0, 0, 0x00, 0x80, 0, 0, 0, 0, 0x00, 0x80, 0, 0, 0, 0, 0x80, 0x80, 0, 0, 0, 0]
        #expect(throws: WebSocketViolation.self) { try limited.read(ByteBuffer(bytes: four)) { _ in } }
    }

    /// A server's answer over the limit is read past, whole frame or fragments, in reads of
    /// any size and with a ping between fragments, and reported with its size and last bytes;
    /// the messages around it read as ever. A client's (masked) is still refused.
    @Test func oversizedMessagesFromAServerAreSkippedAndReported() throws {
        let allocator = ByteBufferAllocator()
        let large = Self.payload(100_000)
        let small = Array(#"{"jsonrpc":"2.0","result":1,"id":2}"#.utf8)
        func frame(_ opcode: UInt8, fin: Bool, _ payload: ArraySlice<UInt8>) -> ByteBuffer {
            Array(payload).withUnsafeBytes {
                WebSocketFrameWriter.frame(opcode: opcode, fin: fin, payload: $0, masked: false, allocator: allocator)
            }
        }
        var stream = ByteBuffer()
        stream.writeImmutableBuffer(frame(0x1, fin: true, large[...]))
        stream.writeImmutableBuffer(frame(0x1, fin: true, small[...]))
        // In fragments: the first two fit, the third takes it over the limit.
        stream.writeImmutableBuffer(frame(0x1, fin: false, large[..<1_000]))
        stream.writeImmutableBuffer(frame(0x0, fin: false, large[1_000..<2_000]))
        stream.writeImmutableBuffer(WebSocketFrameWriter.ping(masked: false, allocator: allocator))
        stream.writeImmutableBuffer(frame(0x0, fin: false, large[2_000..<60_000]))
        stream.writeImmutableBuffer(frame(0x0, fin: true, large[60_000...]))
        stream.writeImmutableBuffer(frame(0x1, fin: true, small[...]))
        let skipped = WebSocketEvent.oversized(bytes: large.count, head: Array(large.prefix(64)), tail: Array(large.suffix(64)))
        let expected: [WebSocketEvent] = [skipped, .message(small), .ping([]), skipped, .message(small)]
        for readSize in [1, 7, 4096, 65536, stream.readableBytes] {
            var reader = WebSocketFrameReader(
                maxFrameSize: 16_384, maxMessageSize: 16_384, peerMasking: .unmasked, skipsOversizedMessages: true)
            var events: [WebSocketEvent] = []
            var remaining = stream
            while remaining.readableBytes > 0 {
                try reader.read(remaining.readSlice(length: min(readSize, remaining.readableBytes))!) { events.append($0) }
            }
            #expect(events == expected, "in reads of \(readSize) bytes")
            #expect(reader.bufferedBytes == 0)
        }
        var client = WebSocketFrameReader(maxFrameSize: 16_384, maxMessageSize: 16_384, peerMasking: .masked, skipsOversizedMessages: true)
        let masked = WebSocketFrameWriter.text(large, masked: true, allocator: allocator)
        #expect(throws: WebSocketViolation.self) { try client.read(masked) { _ in } }
    }

    /// A frame with a 64-bit length, its header split at every byte and its payload at a few places.
    @Test func aLongFrameSplitAnywhereInItsHeaderReadsTheSame() throws {
        let payload = Self.payload(70_001)
        let stream = try Self.nioEncoded([
            WebSocketFrame(fin: true, opcode: .text, maskKey: WebSocketMaskingKey([7, 0, 255, 9]), data: ByteBuffer(bytes: payload))
        ])
        for split in Array(0...20) + [stream.readableBytes / 2, stream.readableBytes - 1, stream.readableBytes] {
            var reader = WebSocketFrameReader(maxFrameSize: 1 << 20, maxMessageSize: 1 << 20, peerMasking: .either)
            var events: [WebSocketEvent] = []
            try reader.read(stream.getSlice(at: 0, length: split)!) { events.append($0) }
            try reader.read(stream.getSlice(at: split, length: stream.readableBytes - split)!) { events.append($0) }
            #expect(events == [.message(payload)], "split at \(split)")
        }
    }

    static let violations: [(String, [UInt8], UInt16)] = [
        ("reserved bit", [0xC1, 0x00], 1002),
        ("unknown opcode", [0x83, 0x00], 1002),
        ("continuation of nothing", [0x80, 0x00], 1002),
        ("new message inside a fragmented one", [0x01, 0x01, 0x61, 0x81, 0x00], 1002),
        ("fragmented ping", [0x09, 0x00], 1002),
        ("ping over 125 bytes, from its header", [0x89, 0x7E, 0x00, 0x7E], 1002),
        ("close with a one-byte payload", [0x88, 0x01, 0x00], 1002),
        ("64-bit length with its top bit set", [0x81, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], 1002),
        ("frame over the limit, from its header", [0x81, 0x7E, 0x01, 0x00], 1009),
        (
            "fragments over the message limit",
            [0x01, 60] + Array(repeating: 0x61, count: 60) + [0x80, 60] + Array(repeating: 0x61, count: 60), 1009
        ),
    ]

    @Test(arguments: Self.violations)
    func violationsAreRefusedWithTheirCloseCode(name: String, bytes: [UInt8], code: UInt16) {
        var reader = WebSocketFrameReader(maxFrameSize: 100, maxMessageSize: 100, peerMasking: .either)
        var events: [WebSocketEvent] = []
        // A good message first: it is delivered before the violation is found.
        let good: [UInt8] = [0x81, 0x02, 0x6F, 0x6B]
        let violation = #expect(throws: WebSocketViolation.self, "\(name)") {
            try reader.read(ByteBuffer(bytes: good + bytes)) { events.append($0) }
        }
        #expect(violation?.closeCode == code, "\(name): \(String(describing: violation))")
        #expect(events == [.message(Array("ok".utf8))])
        // Nothing is read after a violation.
        #expect(throws: Never.self) { try reader.read(ByteBuffer(bytes: good)) { events.append($0) } }
        #expect(events.count == 1)
    }

    /// A server reads only masked frames and a client only unmasked ones (RFC 6455 §5.1), as
    /// Lotus's own gorilla server and client do; the other kind is a protocol error (1002).
    @Test func eachSideRefusesTheOtherKindOfMasking() throws {
        let masked = WebSocketFrameWriter.text(Array("hi".utf8), masked: true, allocator: ByteBufferAllocator())
        let unmasked = WebSocketFrameWriter.text(Array("hi".utf8), masked: false, allocator: ByteBufferAllocator())
        for (peer, good, bad) in [(WebSocketPeerMasking.masked, masked, unmasked), (.unmasked, unmasked, masked)] {
            var reader = WebSocketFrameReader(maxFrameSize: 100, maxMessageSize: 100, peerMasking: peer)
            var events: [WebSocketEvent] = []
            try reader.read(good) { events.append($0) }
            #expect(events == [.message(Array("hi".utf8))])
            let violation = #expect(throws: WebSocketViolation.self) { try reader.read(bad) { events.append($0) } }
            #expect(violation?.closeCode == 1002)
            #expect(events.count == 1)
        }
    }

    @Test func closeFramesCarryTheirCode() throws {
        let frame = WebSocketFrameWriter.close(code: 1009, masked: true, allocator: ByteBufferAllocator())
        let decoded = try Self.nioDecoded(frame)
        #expect(decoded.first?.opcode == .connectionClose)
        #expect(decoded.first.map { Array($0.unmaskedData.readableBytesView) } == [0x03, 0xF1])
    }

    /// Bytes that differ at every position, so a mask applied at the wrong offset shows.
    static func payload(_ length: Int) -> [UInt8] { (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    static func nioDecoded(_ bytes: ByteBuffer) throws -> [WebSocketFrame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.writeInbound(bytes)
        var frames: [WebSocketFrame] = []
        while let frame = try channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        _ = try channel.finish()
        return frames
    }

    static func nioEncoded(_ frames: [WebSocketFrame]) throws -> ByteBuffer {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        for frame in frames { try channel.writeOutbound(frame) }
        var bytes = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&part) }
        _ = try channel.finish()
        return bytes
    }
}
