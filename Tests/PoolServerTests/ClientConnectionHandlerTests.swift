// The client connection handlers on an embedded channel with virtual time: what they read,
// withhold, write and close, with no socket and no sleep.

import Logging
import LotusWire
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import PoolServer

@Suite struct ClientConnectionHandlerTests {
    /// Stands in for a websocket's session: records requests; the test answers them.
    final class RecordedRequests: ClientWebSocketRequests {
        let logger = Logger(label: "test")
        let received = Mutex<[String]>([])
        private let tornDownFlag = Atomic<Bool>(false)
        var tornDown: Bool { self.tornDownFlag.load(ordering: .relaxed) }
        var hasOpenChannels: Bool { false }
        func attach(_ handler: ClientWebSocketHandler) {}
        let refused = Mutex<[String]>([])
        /// What each request received and not yet answered holds of the budget, oldest first.
        let charges = Mutex<[Int]>([])
        func receive(_ bytes: [UInt8], charge: Int) {
            self.received.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) }
            self.charges.withLock { $0.append(charge) }
        }
        /// Answers the oldest request, as the session does once its answer is queued (the
        /// budget itself is given back by the test, which may hold it for others).
        func answer(_ handler: ClientWebSocketHandler) {
            let charge = self.charges.withLock { $0.isEmpty ? 0 : $0.removeFirst() }
            handler.requestAnswered(releasing: charge)
        }
        func write(_ answer: DeferredAnswer) {}
        func refuse(_ bytes: [UInt8]) { self.refused.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) } }
        func stopWriting() {}
        func tearDown() { self.tornDownFlag.store(true, ordering: .relaxed) }
        func requestBodyRefused() {}
        var count: Int { self.received.withLock { $0.count } }
    }

    /// Counts the reads that reach the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Any
        var reads = 0
        func read(context: ChannelHandlerContext) {
            self.reads += 1
            context.read()
        }
    }

    func websocket(cap: Int = 2, budget: SharedBudget = SharedBudget(limit: 1 << 20)) throws -> (
        EmbeddedChannel, ClientWebSocketHandler, RecordedRequests, ReadCounter
    ) {
        let requests = RecordedRequests()
        let counter = ReadCounter()
        let handler = ClientWebSocketHandler(
            requests: requests,
            limits: ClientWebSocketLimits(
                maxRequestBytes: 1 << 20, maxCallsInFlight: cap, idleTimeout: .seconds(60), slowClientGrace: .seconds(30)),
            bodyBudget: budget)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, handler, requests, counter)
    }

    func frame(_ text: String, _ channel: EmbeddedChannel) -> ByteBuffer {
        WebSocketFrameWriter.text(Array(text.utf8), masked: true, allocator: channel.allocator)
    }

    /// Unfinished messages are held against the budget every connection shares (HTTP bodies
    /// too): what fits is charged and given back as it completes; a message past it closes its
    /// connection with 1013 and gives back what it held.
    @Test("a websocket's unfinished messages are held within the shared body budget")
    func websocketUnfinishedMessagesShareTheBodyBudget() throws {
        let budget = SharedBudget(limit: 100_000)
        let (channel, handler, requests, _) = try self.websocket(budget: budget)
        var fits = self.frame(String(repeating: "a", count: 60_000), channel)
        try channel.writeInbound(fits.readSlice(length: 50_000)!)
        #expect(budget.held == 50_000)
        try channel.writeInbound(fits)
        // Finished, the request holds its charge until it is answered (as the session does).
        let charge = HeldRequestCharge.of(requestBytes: 60_000)
        #expect(requests.count == 1 && budget.held == charge)
        budget.giveBack(charge)
        requests.answer(handler)
        // Another connection holds 70 kB: 40 kB more here does not fit.
        #expect(budget.take(70_000))
        var tooMuch = self.frame(String(repeating: "b", count: 60_000), channel)
        try channel.writeInbound(tooMuch.readSlice(length: 40_000)!)
        let close = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(close.readableBytesView.prefix(4)) == [0x88, 0x02, 0x03, 0xF5], "close frame 1013")
        #expect(!channel.isActive)
        #expect(budget.held == 70_000)
    }

    @Test("a request the budget has no room for waits, unread past, for the connection's own calls to give some back")
    func aRequestOverTheBudgetWaitsForItsConnectionsCalls() throws {
        let budget = SharedBudget(limit: 10_000)
        let (channel, handler, requests, counter) = try self.websocket(cap: 4, budget: budget)
        try channel.writeInbound(self.frame("1", channel))
        #expect(requests.count == 1)
        // Other connections take all but 1,000 bytes: "2" does not fit, and waits.
        #expect(budget.take(budget.limit - budget.held - 1_000))
        try channel.writeInbound(self.frame("2", channel))
        #expect(requests.count == 1 && requests.refused.withLock { $0.isEmpty })
        let reads = counter.reads
        channel.read()
        #expect(counter.reads == reads, "read on while a request waits for the budget")
        // "1" is answered and gives its charge back: "2" starts, and reading goes on.
        budget.giveBack(HeldRequestCharge.of(requestBytes: 1))
        requests.answer(handler)
        channel.embeddedEventLoop.run()
        #expect(requests.received.withLock { $0 } == ["1", "2"])
        #expect(counter.reads == reads + 1)
    }

    @Test("a large request that waits for the budget keeps what it held unfinished, and takes only the rest when it starts")
    func aWaitingRequestKeepsItsCharge() throws {
        let budget = SharedBudget(limit: 100_000)
        let (channel, handler, requests, _) = try self.websocket(cap: 4, budget: budget)
        try channel.writeInbound(self.frame("1", channel))
        var large = self.frame(String(repeating: "a", count: 60_000), channel)
        try channel.writeInbound(large.readSlice(length: 50_000)!)
        let unfinished = budget.held
        // Other connections take all but 1,000 bytes; the rest arrives, and the request waits.
        let others = budget.limit - budget.held - 1_000
        #expect(budget.take(others))
        try channel.writeInbound(large)
        #expect(requests.count == 1)
        // Before, what it held unfinished went back to the budget while it waited.
        #expect(budget.held == unfinished + others)
        // The others' calls end, then "1" is answered: the request starts, with its charge whole.
        budget.giveBack(others + HeldRequestCharge.of(requestBytes: 1))
        requests.answer(handler)
        channel.embeddedEventLoop.run()
        #expect(requests.count == 2)
        #expect(budget.held == HeldRequestCharge.of(requestBytes: 60_000))
    }

    @Test("one connection's calls in flight hold at most a quarter of the budget: past it, its next request waits for its own answers")
    func oneConnectionHoldsAtMostItsShareOfTheBudget() throws {
        // Its share is 25,000 bytes here; under 6,250 held, one request of any size may start.
        let budget = SharedBudget(limit: 100_000)
        let (channel, handler, requests, counter) = try self.websocket(cap: 8, budget: budget)
        let large = String(repeating: "a", count: 10_000)
        for text in [large, large] { try channel.writeInbound(self.frame(text, channel)) }
        #expect(requests.count == 2)
        // A third would bring it to 30,144 bytes, over its 25,000: it waits, though the budget
        // as a whole has room.
        try channel.writeInbound(self.frame(large, channel))
        #expect(requests.count == 2)
        #expect(budget.held == 2 * HeldRequestCharge.of(requestBytes: 10_000))
        let reads = counter.reads
        channel.read()
        #expect(counter.reads == reads, "read on past its share")
        // Another connection still finds the rest: 70,000 bytes.
        #expect(budget.take(70_000))
        budget.giveBack(70_000)
        // One of its own is answered: the third starts.
        budget.giveBack(HeldRequestCharge.of(requestBytes: 10_000))
        requests.answer(handler)
        channel.embeddedEventLoop.run()
        #expect(requests.count == 3)
        #expect(budget.held == 2 * HeldRequestCharge.of(requestBytes: 10_000))
        // With little in flight (a long wait, say), one request past the share is taken whole.
        for _ in 0..<2 {
            budget.giveBack(HeldRequestCharge.of(requestBytes: 10_000))
            requests.answer(handler)
        }
        try channel.writeInbound(self.frame("wait", channel))
        try channel.writeInbound(self.frame(String(repeating: "b", count: 40_000), channel))
        #expect(requests.count == 5)
        #expect(budget.held == HeldRequestCharge.of(requestBytes: 4) + HeldRequestCharge.of(requestBytes: 40_000))
    }

    @Test("with no call of its own in flight, a request the budget has no room for is refused at once, and reading goes on")
    func aRequestOverTheBudgetWithNothingInFlightIsRefused() throws {
        let budget = SharedBudget(limit: 10_000)
        let (channel, _, requests, _) = try self.websocket(cap: 4, budget: budget)
        #expect(budget.take(9_000))
        try channel.writeInbound(self.frame("1", channel))
        #expect(requests.count == 0 && requests.refused.withLock { $0 } == ["1"])
        #expect(channel.isActive && budget.held == 9_000)
    }

    @Test("a websocket at its cap on calls in flight starts no more and is not read until calls are answered")
    func websocketAtItsCapIsNotRead() throws {
        let (channel, handler, requests, counter) = try self.websocket(cap: 2)
        // Three requests in one socket read: the third waits for a free slot.
        var read = self.frame("1", channel)
        for text in ["2", "3"] {
            var next = self.frame(text, channel)
            read.writeBuffer(&next)
        }
        try channel.writeInbound(read)
        #expect(requests.count == 2)
        let before = counter.reads
        channel.read()
        #expect(counter.reads == before)
        requests.answer(handler)
        #expect(requests.received.withLock { $0 } == ["1", "2", "3"])
        #expect(counter.reads == before)
        requests.answer(handler)
        #expect(counter.reads == before + 1)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test("a websocket told to quiesce answers its calls, then says goodbye with 1001 and closes")
    func websocketQuiesces() throws {
        let (channel, handler, requests, _) = try self.websocket()
        try channel.writeInbound(self.frame("call", channel))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        channel.embeddedEventLoop.run()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        // Read after the goodbye began: never started.
        try channel.writeInbound(self.frame("late", channel))
        #expect(requests.count == 1)
        requests.answer(handler)
        channel.embeddedEventLoop.run()
        let close = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(close.readableBytesView) == [0x88, 2, 0x03, 0xE9])
        #expect(!channel.isActive)
        #expect(requests.tornDown)
    }

    @Test("a websocket that reads nothing over its write bound for the grace is closed")
    func websocketNotReadingIsClosed() throws {
        let (channel, _, _, _) = try self.websocket()
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test("an idle websocket closes after the idle timeout; one with a call open does not")
    func websocketIdle() throws {
        let (channel, handler, requests, _) = try self.websocket()
        try channel.writeInbound(self.frame("call", channel))
        channel.embeddedEventLoop.advanceTime(by: .seconds(61))
        #expect(channel.isActive)
        requests.answer(handler)
        channel.embeddedEventLoop.advanceTime(by: .seconds(61))
        #expect(!channel.isActive)
    }

    func http() throws -> EmbeddedChannel {
        let handler = ClientHTTPConnectionHandler(
            limits: ClientHTTPLimits(
                idleTimeout: .seconds(60), requestTimeout: .seconds(30), minBytesPerSecond: 1 << 20, maxRequestBytes: 1 << 20))
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("an HTTP request whose head trickles in is answered 408 and closed at its deadline")
    func httpTrickleGets408() throws {
        let channel = try self.http()
        // A header line every 5 s: never silent for long, yet never done.
        for line in ["POST /rpc/v1 HTTP/1.1\r\n", "Host: x\r\n", "X-A: 1\r\n", "X-B: 1\r\n", "X-C: 1\r\n", "X-D: 1\r\n"] {
            try channel.writeInbound(channel.allocator.buffer(string: line))
            channel.embeddedEventLoop.advanceTime(by: .seconds(5))
            _ = try channel.readInbound(as: ByteBuffer.self)
        }
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let answer = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: answer).hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test("an idle HTTP connection closes after the idle timeout without an answer")
    func httpIdleCloses() throws {
        let channel = try self.http()
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }
}
