// The WebSocket frame reader under fuzz: a stream read whole or split anywhere gives the same
// events and the same violation, the limits hold, and what it accepted, written again by
// fpool's frame writer, reads back the same.

import LotusWire
import NIOCore

enum WebSocketFuzzTarget {
    /// An input is one configuration byte, then the stream: the byte picks the reader's
    /// masking rule, its limits, whether it skips oversized messages (0x20), and where the
    /// stream is split.
    static let target = FuzzTarget(
        name: "websocket",
        seeds: Self.seeds,
        mutator: Mutator(dictionary: Self.tokens, nesting: [], depthLimit: nil, delimiters: [], maxLength: 64 << 10),
        ciIterations: 2500,
        check: Self.check)

    /// (frame, message, fragments) limits: generous, small, and control-frame sized.
    static let limits: [(frame: Int, message: Int, fragments: Int)] = [
        (1 << 20, 1 << 20, 1 << 20), (64, 256, 4), (125, 125, 2), (1000, 70_000, 64),
    ]
    static let maskings: [WebSocketPeerMasking] = [.masked, .unmasked, .either, .masked]

    static func reader(_ configuration: UInt8) -> WebSocketFrameReader {
        let limits = Self.limits[Int(configuration >> 2 & 3)]
        return WebSocketFrameReader(
            maxFrameSize: limits.frame, maxMessageSize: limits.message, maxFragments: limits.fragments,
            peerMasking: Self.maskings[Int(configuration & 3)], skipsOversizedMessages: configuration & 0x20 != 0)
    }

    struct Reading: Equatable {
        var events: [WebSocketEvent] = []
        var violation: WebSocketViolation?
        var finished = false
        /// Events delivered by a read after the reader finished (there must be none).
        var afterFinish = 0
    }

    /// Reads `parts` in order with a fresh reader, as a connection's reads would arrive.
    static func read(_ configuration: UInt8, _ parts: [ArraySlice<UInt8>]) -> Reading {
        var reader = Self.reader(configuration)
        var reading = Reading()
        for part in parts {
            do {
                try reader.read(ByteBuffer(bytes: part)) { reading.events.append($0) }
            } catch {
                reading.violation = error
                break
            }
        }
        reading.finished = reader.isFinished
        // Nothing is read after a close or a violation.
        if reading.finished { try? reader.read(ByteBuffer(bytes: [0x81, 0x80, 0, 0, 0, 0, 0x81, 0x00])) { _ in reading.afterFinish += 1 } }
        return reading
    }

    static func check(_ bytes: [UInt8]) throws(FuzzFailure) -> String {
        guard let configuration = bytes.first else { return "empty" }
        let stream = bytes[1...]
        let whole = Self.read(configuration, [stream])
        // Split at points drawn from the configuration's top bits and the stream's length,
        // and, for short streams, one byte at a time.
        var random = SplitMix64(seed: UInt64(configuration) << 32 | UInt64(stream.count))
        var cuts = (0..<(1 + random.below(6))).map { _ in stream.startIndex + random.below(stream.count + 1) }.sorted()
        cuts = [stream.startIndex] + cuts + [stream.endIndex]
        let split = Self.read(configuration, zip(cuts, cuts.dropFirst()).map { stream[$0..<$1] })
        try FuzzFailure.require(split == whole, "split at \(cuts) the stream reads \(split), whole \(whole)")
        if stream.count <= 512 {
            let bytewise = Self.read(configuration, stream.indices.map { stream[$0...$0] })
            try FuzzFailure.require(bytewise == whole, "a byte at a time the stream reads \(bytewise), whole \(whole)")
        }
        try Self.checkLimits(configuration, whole, streamLength: stream.count)
        try Self.checkRewritten(configuration, whole.events)
        let kinds = whole.events.map(\.kind).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
        return "\(kinds.joined(separator: ",")) \(whole.violation.map { reasonKind($0.reason) } ?? "ok") \(whole.finished)"
    }

    static func checkLimits(_ configuration: UInt8, _ reading: Reading, streamLength: Int) throws(FuzzFailure) {
        let limits = Self.limits[Int(configuration >> 2 & 3)]
        var delivered = 0
        for event in reading.events {
            switch event {
            case .message(let bytes):
                try FuzzFailure.require(bytes.count <= limits.message, "a message of \(bytes.count) bytes, over \(limits.message)")
                delivered += bytes.count
            case .ping(let bytes):
                try FuzzFailure.require(bytes.count <= 125, "a ping of \(bytes.count) bytes")
                delivered += bytes.count
            case .pong, .close: break
            case .oversized(let bytes, let head, let tail):
                try FuzzFailure.require(head.count == min(bytes, 64), "a head of \(head.count) bytes for a message of \(bytes)")
                try FuzzFailure.require(configuration & 0x20 != 0, "a message skipped by a reader that refuses them")
                try FuzzFailure.require(
                    Self.maskings[Int(configuration & 3)] != .masked, "a masked message skipped: only a server's are")
                try FuzzFailure.require(tail.count == min(bytes, 64), "a tail of \(tail.count) bytes for a message of \(bytes)")
            }
        }
        try FuzzFailure.require(delivered <= streamLength, "\(delivered) payload bytes from a stream of \(streamLength)")
        if let violation = reading.violation {
            try FuzzFailure.require([1002, 1009].contains(violation.closeCode), "close code \(violation.closeCode) for \(violation)")
            try FuzzFailure.require(reading.finished, "the reader reads on after \(violation)")
        }
        try FuzzFailure.require(reading.afterFinish == 0, "\(reading.afterFinish) events read after the reader finished")
        if case .close? = reading.events.last { try FuzzFailure.require(reading.finished, "the reader reads on after a close") }
    }

    /// The events written again by `WebSocketFrameWriter`, each in one frame, read back the same.
    static func checkRewritten(_ configuration: UInt8, _ events: [WebSocketEvent]) throws(FuzzFailure) {
        let masking = Self.maskings[Int(configuration & 3)]
        let masked = masking == .masked || (masking == .either && configuration & 0x10 != 0)
        let allocator = ByteBufferAllocator()
        var stream = ByteBuffer()
        for event in events {
            switch event {
            case .message(let bytes): stream.writeImmutableBuffer(WebSocketFrameWriter.text(bytes, masked: masked, allocator: allocator))
            case .ping(let bytes):
                stream.writeImmutableBuffer(
                    WebSocketFrameWriter.frame(
                        opcode: WebSocketFrameReader.Opcode.ping, fin: true, payload: bytes, masked: masked, allocator: allocator))
            case .pong: stream.writeImmutableBuffer(WebSocketFrameWriter.pong(echoing: [], masked: masked, allocator: allocator))
            case .close(let code): stream.writeImmutableBuffer(WebSocketFrameWriter.close(code: code, masked: masked, allocator: allocator))
            case .oversized:
                break  // over a frame limit the writer's single frames need not break: not written again
            }
        }
        let limit = Self.limits[Int(configuration >> 2 & 3)].message
        var reader = WebSocketFrameReader(
            maxFrameSize: max(limit, 125), maxMessageSize: limit, peerMasking: masking, skipsOversizedMessages: configuration & 0x20 != 0)
        var reread: [WebSocketEvent] = []
        do {
            try reader.read(stream) { reread.append($0) }
        } catch {
            throw FuzzFailure("the writer's frames for \(events.count) events are refused: \(error)")
        }
        let kept = events.filter { if case .oversized = $0 { false } else { true } }
        try FuzzFailure.require(reread == kept, "written again, \(kept) read back as \(reread)")
    }

    // MARK: Seeds

    /// A frame as a peer sends it, with a fixed masking key (the writer draws a fresh one,
    /// which would make the corpus differ from run to run).
    static func frame(_ opcode: UInt8, fin: Bool = true, _ payload: [UInt8], key: [UInt8]? = [0x37, 0xFA, 0x21, 0x3D]) -> [UInt8] {
        var header: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let maskBit: UInt8 = key == nil ? 0 : 0x80
        switch payload.count {
        case ..<126: header.append(maskBit | UInt8(payload.count))
        case ..<0x10000: header += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default: header += [maskBit | 127] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: payload.count >> (8 * $0)) }
        }
        guard let key else { return header + payload }
        return header + key + payload.enumerated().map { $0.element ^ key[$0.offset & 3] }
    }

    static let seeds: [[UInt8]] = {
        let requests = RPCSeedFrames.frames.map { Array($0.utf8) }
        let long = Array(repeating: Array(RPCSeedFrames.frames[3].utf8), count: 300).joined()
        var streams: [(UInt8, [UInt8])] = []
        for (configuration, key) in [
            (UInt8(0x00), [UInt8]?([0x37, 0xFA, 0x21, 0x3D])), (0x01, nil), (0x06, [1, 2, 3, 4]), (0x0C, [0, 0, 0, 0]),
            (0x25, nil),
        ] {
            let frame = { (opcode: UInt8, fin: Bool, payload: [UInt8]) in Self.frame(opcode, fin: fin, payload, key: key) }
            streams.append((configuration, requests.prefix(4).flatMap { frame(0x1, true, $0) }))
            streams.append(
                (
                    configuration,
                    frame(0x1, false, Array(requests[2].prefix(40))) + frame(0x9, true, Array("are you there".utf8))
                        + frame(0x0, true, Array(requests[2].dropFirst(40)))
                ))
            streams.append(
                (
                    configuration,
                    frame(0xA, true, []) + frame(0x2, true, requests[4]) + frame(0x8, true, [0x03, 0xE8]) + frame(0x1, true, requests[0])
                ))
            streams.append((configuration, frame(0x1, true, Array(long.prefix(70_000)))))
            streams.append((configuration, frame(0x1, true, Array(long.prefix(300))) + frame(0x8, true, [])))
            streams.append(
                (
                    configuration,
                    frame(0x1, false, Array(requests[0].prefix(10))) + frame(0x0, false, Array(requests[0].dropFirst(10).prefix(10)))
                        + frame(0x0, true, Array(requests[0].dropFirst(20)))
                ))
        }
        return streams.map { [$0.0] + $0.1 }
    }()

    /// Headers and lengths: every opcode, both masking bits, and 16- and 64-bit lengths up to
    /// the largest (with and without the forbidden top bit).
    static let tokens: [[UInt8]] = [
        [0x81, 0x00], [0x01, 0x80], [0x80, 0x80], [0x00, 0x80], [0x82, 0xFE], [0x88, 0x80], [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8],
        [0x89, 0x80],
        [0x8A, 0x00], [0x83, 0x80], [0xC1, 0x80], [0x09, 0x80], [0x7E, 0xFF, 0xFF], [0xFE, 0x00, 0x7E], [0xFE, 0x01, 0x00],
        [0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0], [0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00],
        [0x7F, 0, 0, 0, 0, 0, 0, 0, 0x7D], [0, 0, 0, 0],
    ]
}

extension WebSocketEvent {
    var kind: String {
        switch self {
        case .message: "message"
        case .ping: "ping"
        case .pong: "pong"
        case .close(let code): "close \(code == nil ? "-" : "code")"
        case .oversized: "oversized"
        }
    }
}
