// The lifecycle of one client HTTP connection as a value: idle between requests, a request
// being received against its deadline, a request being answered, its answer being written
// against a deadline, or handed over to WebSocket.
// Confined to the connection's event loop; `ClientHTTPConnectionHandler` carries it out.

import NIOCore

struct ClientHTTPStateMachine {
    enum State: Equatable {
        /// Waiting for a request (a keep-alive connection between requests).
        case idle(since: NIODeadline)
        /// Part of a request has arrived: the rest must follow before its deadline, and with
        /// no silence longer than `ClientHTTPLimits.maxSilence`.
        case receiving(since: NIODeadline, bytes: Int, lastBytes: NIODeadline)
        /// The request is read and being answered (the call has its own timeout).
        case answering
        /// The answer is handed to the socket: the client must read it by `until`, or the
        /// connection, and the answer it holds, goes.
        case writing(until: NIODeadline)
        /// The connection became a websocket, whose own handler takes over.
        case upgraded
        case closed
    }

    enum Action: Equatable {
        case none
        /// Nothing was sent for the idle timeout: close.
        case closeIdle
        /// The request did not arrive in time: answer 408 and close.
        case timeOut
        /// The client did not read its answer in time: close.
        case closeSlowReader
        /// Look again at this time.
        case checkAgain(at: NIODeadline)
    }

    let limits: ClientHTTPLimits
    private(set) var state: State

    init(limits: ClientHTTPLimits, now: NIODeadline) {
        self.limits = limits
        self.state = .idle(since: now)
    }

    /// Raw bytes arrived from the client.
    mutating func bytesArrived(_ count: Int, at now: NIODeadline) {
        switch self.state {
        case .idle: self.state = .receiving(since: now, bytes: count, lastBytes: now)
        case .receiving(let since, let bytes, _): self.state = .receiving(since: since, bytes: bytes + count, lastBytes: now)
        // The next pipelined request, read early: timed from when its head is handed over.
        case .answering, .writing, .upgraded, .closed: break
        }
    }

    /// A request's head was handed to the request handler (a pipelined one may have arrived
    /// while the previous request was answered).
    mutating func requestBegan(at now: NIODeadline) {
        if case .idle = self.state { self.state = .receiving(since: now, bytes: 0, lastBytes: now) }
    }

    /// The whole request is read.
    mutating func requestRead() {
        if case .receiving = self.state { self.state = .answering }
    }

    /// The answer, `bytes` long, is handed to the socket. Reading it may take the request
    /// timeout plus one second per `minBytesPerSecond` of it, as sending a request may.
    mutating func answerWriting(bytes: Int, at now: NIODeadline) {
        guard self.state == .answering || self.isReceiving else { return }
        self.state = .writing(until: now + self.limits.requestTimeout + .sending(bytes, atBytesPerSecond: self.limits.minBytesPerSecond))
    }

    /// The answer is written and the connection stays open for the next request (one that
    /// closes instead ends in `closed`).
    mutating func answered(at now: NIODeadline) {
        guard self.state == .answering || self.isWriting || self.isReceiving else { return }
        self.state = .idle(since: now)
    }

    mutating func upgraded() {
        self.state = .upgraded
    }

    mutating func closed() {
        self.state = .closed
    }

    private var isReceiving: Bool {
        if case .receiving = self.state { return true }
        return false
    }

    private var isWriting: Bool {
        if case .writing = self.state { return true }
        return false
    }

    /// When the connection's clock must next ring, if at all.
    var deadline: NIODeadline? {
        switch self.state {
        case .idle(let since):
            return since + self.limits.idleTimeout
        case .receiving(let since, let bytes, let lastBytes):
            // A large body earns time at the minimum rate, up to what the request limit allows:
            // a slow link sending a real 50 MB request passes, a trickle does not. The time is
            // for sending, not for holding: a body that stops keeps its buffer only as long as
            // the silence allowed.
            let earned = TimeAmount.sending(min(bytes, self.limits.maxRequestBytes), atBytesPerSecond: self.limits.minBytesPerSecond)
            return min(since + self.limits.requestTimeout + earned, lastBytes + self.limits.maxSilence)
        case .writing(let until):
            return until
        case .answering, .upgraded, .closed:
            return nil
        }
    }

    /// The clock rang.
    mutating func clockRang(at now: NIODeadline) -> Action {
        guard let deadline = self.deadline else { return .none }
        guard now >= deadline else { return .checkAgain(at: deadline) }
        switch self.state {
        case .idle:
            self.state = .closed
            return .closeIdle
        case .receiving:
            self.state = .closed
            return .timeOut
        case .writing:
            self.state = .closed
            return .closeSlowReader
        case .answering, .upgraded, .closed:
            return .none
        }
    }
}

/// What a client HTTP connection may take: from `ServerConfiguration`.
struct ClientHTTPLimits: Sendable, Equatable {
    var idleTimeout: TimeAmount
    var requestTimeout: TimeAmount
    var minBytesPerSecond: Int
    var maxRequestBytes: Int
    /// The longest a request in progress may send nothing (nginx's client_body_timeout is
    /// the same idea): 10 s, or the request timeout when shorter.
    var maxSilence: TimeAmount

    init(idleTimeout: TimeAmount, requestTimeout: TimeAmount, minBytesPerSecond: Int, maxRequestBytes: Int, maxSilence: TimeAmount? = nil) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.minBytesPerSecond = minBytesPerSecond
        self.maxRequestBytes = maxRequestBytes
        self.maxSilence = maxSilence ?? min(.seconds(10), requestTimeout)
    }
}

extension TimeAmount {
    /// How long sending `bytes` takes at `rate` bytes per second: the time a request, or an
    /// answer, earns by its size on top of the request timeout.
    static func sending(_ bytes: Int, atBytesPerSecond rate: Int) -> TimeAmount {
        .nanoseconds(Int64(bytes) * 1_000_000_000 / Int64(max(1, rate)))
    }
}
