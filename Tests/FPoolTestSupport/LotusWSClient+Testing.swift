// What tests do with fpool's WebSocket client that no production caller does: write raw or
// split frames, stop reading as a stuck process would, ask whether an error was a close.

import LotusWire
import NIOCore

extension LotusWSClient {
    /// Queues raw text as one frame, or split into `fragments` continuation frames.
    public func sendRaw(_ text: String, fragments: Int = 1) {
        self.queue(Array(text.utf8), fragments: fragments)
    }

    /// Stops or resumes reading from the socket: a client that stops reading its answers, as
    /// a stuck process would.
    public func setReading(_ reading: Bool) async throws {
        try await self.channel.setOption(ChannelOptions.autoRead, value: reading).get()
        if reading { self.channel.read() }
    }
}

extension LotusClientError {
    /// The connection closed before the answer arrived, whichever request is blamed.
    public var isConnectionClosed: Bool { self == .connectionClosed || self == .closedAfterRequest }
}
