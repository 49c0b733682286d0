// Answers and channel values a client websocket is owed while it is over its write bound, kept
// as they came instead of framed. Framing copies a result into the frame: 2,048 coalesced reads
// of one 10 MB answer made 2,048 copies for a client that read none of them. Held here, they
// share the one result until the client drains its socket and each is framed in turn.

import NIOCore

/// One answer or channel value not yet framed.
enum DeferredAnswer {
    /// A daemon's result, to be framed with the caller's id (the result shared with every
    /// other caller of a coalesced or cached read).
    case result([UInt8], id: [UInt8])
    /// A whole text message; a channel's value names its channel, which counts it as written.
    case message([UInt8], ClientChannel?)
    /// This side's close frame, queued behind the answers owed (written by the handler itself;
    /// nothing after it is).
    case goodbye(code: UInt16?)
}

/// The answers held for one connection, oldest first. Confined to the connection's loop.
struct DeferredAnswers {
    private var answers = CircularBuffer<DeferredAnswer>()

    var isEmpty: Bool { self.answers.isEmpty }

    mutating func append(_ answer: DeferredAnswer) {
        self.answers.append(answer)
    }

    mutating func popFirst() -> DeferredAnswer? {
        self.answers.popFirst()
    }

    /// Empties the queue (the connection closed), telling each channel its value was dropped;
    /// the answers dropped (a goodbye is none).
    mutating func dropAll() -> Int {
        let dropped = self.answers.count { if case .goodbye = $0 { false } else { true } }
        for case .message(_, let channel?) in self.answers { channel.dropped() }
        self.answers.removeAll()
        return dropped
    }
}
