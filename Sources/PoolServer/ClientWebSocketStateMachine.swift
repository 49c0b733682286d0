// The lifecycle of one client websocket as a value: when fpool reads the client's requests,
// when it pauses for back-pressure, when it says goodbye and when it closes. Confined to the
// connection's event loop; `ClientWebSocketHandler` carries out the actions it returns.

import NIOCore

struct ClientWebSocketStateMachine {
    enum State: Equatable {
        /// Reading and starting requests (reading pauses while over a bound).
        case open
        /// The server is stopping: requests read are dropped (never started, so the client
        /// may send them elsewhere); the goodbye follows the answer of every call started.
        case goingAway
        /// This side's close frame is queued: nothing is written after it, and the socket
        /// closes once it is written.
        case closeSent
        case closed
    }

    /// What the handler does next.
    enum Action: Equatable {
        case none
        /// Ask the socket for more bytes (reading was paused and may go on).
        case read
        /// Withhold the pipeline's read: the client is over a bound.
        case pauseReading(PauseReason)
        /// Start the request just read.
        case start
        /// Keep the request just read until it may start (see `takeHeld`): the cap is
        /// reached or the client is over its write bound. Nothing more is read meanwhile, so
        /// at most one socket read's requests wait.
        case hold
        /// Drop the request just read.
        case drop
        /// Queue the close frame (with this code; nil echoes a client's close) behind every
        /// answer already queued, then close.
        case sayGoodbye(code: UInt16?)
        /// Close the socket now.
        case close(reason: CloseReason)
        /// Check for idleness again at this time.
        case checkIdleAgain(at: NIODeadline)
        /// The client went over its write bound: close it unless it reads some by this time.
        case startSlowClientClock(until: NIODeadline)
        /// Back under the write bound, maybe reading again.
        case stopSlowClientClock(thenRead: Bool)
        /// The connection is gone: give up its calls and close its channels.
        case tearDown
    }

    enum PauseReason: Equatable {
        /// More than the client's write bound waits to be written to it.
        case unwritten
        /// The cap on calls in flight is reached.
        case callsInFlight
        /// Every connection's requests together hold the whole request budget, and this one's
        /// calls in flight will give some back.
        case requestBudget
        /// This connection's calls in flight hold its share of the request budget (the wait is
        /// `requestBudget`'s; only what is logged differs).
        case budgetShare
    }

    enum CloseReason: Equatable {
        case idle
        /// Over its write bound for the whole grace, reading less than `minReadPerGrace` of it.
        case notReading
    }

    /// What a client over its write bound must read in each grace to keep its connection:
    /// 1 MiB per 30 s is a 35 kB/s link, far below any miner's, far above a trickle.
    static let minReadPerGrace = 1 << 20

    let maxCallsInFlight: Int
    let idleTimeout: TimeAmount
    let slowClientGrace: TimeAmount
    private(set) var state: State = .open
    /// Requests started whose answer is not yet queued for writing.
    private(set) var unanswered = 0
    /// Requests read and not started: past the cap, over the write bound, or waiting for the
    /// request budget.
    private(set) var held = 0
    /// False while more than the client's write bound waits to be written to it.
    private(set) var writable = true
    /// The pipeline asked for bytes while reading was paused.
    private var readWanted = false
    /// An unfinished request could not be charged to the shared budget: nothing more is read
    /// until one of this connection's calls gives some back.
    private(set) var waitingForBudget = false
    private var lastRead: NIODeadline
    /// Unwritten bytes when the slow-client clock started or was last looked at.
    private var unwrittenAtCheck = 0

    init(maxCallsInFlight: Int, idleTimeout: TimeAmount, slowClientGrace: TimeAmount, now: NIODeadline) {
        self.maxCallsInFlight = max(1, maxCallsInFlight)
        self.idleTimeout = idleTimeout
        self.slowClientGrace = slowClientGrace
        self.lastRead = now
    }

    /// Whether bytes may be read: not while the client has too much unwritten or too many
    /// calls open, so what one client costs is bounded whatever it sends. Once requests are
    /// only dropped (going away), reading goes on so a client's close is seen.
    var mayRead: Bool {
        switch self.state {
        case .open: self.writable && self.unanswered < self.maxCallsInFlight && self.held == 0 && !self.waitingForBudget
        case .goingAway, .closeSent: self.writable
        case .closed: false
        }
    }

    /// The pipeline asks for bytes.
    mutating func readRequested() -> Action {
        guard self.mayRead else {
            self.readWanted = true
            guard self.state != .closed else { return .none }
            return .pauseReading(!self.writable ? .unwritten : self.waitingForBudget ? .requestBudget : .callsInFlight)
        }
        return .read
    }

    /// Bytes arrived.
    mutating func bytesRead(at now: NIODeadline) {
        self.lastRead = now
    }

    /// A whole request (text or binary message) was read.
    mutating func requestRead() -> Action {
        guard self.state == .open else { return .drop }
        guard self.mayStart, self.held == 0 else {
            self.held += 1
            return .hold
        }
        self.unanswered += 1
        return .start
    }

    /// Whether a request read may start now: a client over its write bound gets no new
    /// answers queued, one at its cap no new call.
    private var mayStart: Bool {
        self.state == .open && self.writable && self.unanswered < self.maxCallsInFlight && !self.waitingForBudget
    }

    /// Takes the oldest held request to start, if one may start now (the handler asks after
    /// every answer and every drain, until this says no).
    mutating func takeHeld() -> Bool {
        guard self.held > 0, self.mayStart else { return false }
        self.held -= 1
        self.unanswered += 1
        return true
    }

    /// An unfinished request could not be charged: true to wait for this connection's calls to
    /// give some of the budget back, false (no call of its own in flight) to hang up.
    mutating func budgetExhausted() -> Bool {
        guard self.state == .open, self.unanswered > 0 else { return false }
        self.waitingForBudget = true
        return true
    }

    /// The request just started (by `requestRead` or `takeHeld`) finds the request budget
    /// spent: true when it waits, first of the held ones, for this connection's other calls to
    /// give some back; false (none in flight) when it is to be refused.
    mutating func startWaitsForBudget() -> Bool {
        precondition(self.unanswered > 0, "no request started")
        guard self.state == .open, self.unanswered > 1 else { return false }
        self.unanswered -= 1
        self.held += 1
        self.waitingForBudget = true
        return true
    }

    /// The budget has room again: held requests may start (`takeHeld`), then `readIfWanted`.
    mutating func budgetFound() {
        self.waitingForBudget = false
    }

    /// Reading goes on if it was wanted and may.
    mutating func readIfWanted() -> Action {
        self.state == .open ? self.resumeIfWanted() : .none
    }

    /// A started request's answer is queued (or it needed none: a cancel, a stray response).
    mutating func requestAnswered() -> Action {
        precondition(self.unanswered > 0, "a request answered twice")
        self.unanswered -= 1
        switch self.state {
        case .goingAway where self.unanswered == 0:
            self.state = .closeSent
            return .sayGoodbye(code: 1001)
        case .open:
            return self.resumeIfWanted()
        default:
            return .none
        }
    }

    private mutating func resumeIfWanted() -> Action {
        guard self.readWanted, self.mayRead else { return .none }
        self.readWanted = false
        return .read
    }

    /// NIO's graceful-stop signal: no new request (held ones are dropped: never started),
    /// the goodbye (1001) after the answers.
    mutating func quiesce() -> Action {
        guard self.state == .open else { return .none }
        self.held = 0
        guard self.unanswered > 0 else {
            self.state = .closeSent
            return .sayGoodbye(code: 1001)
        }
        self.state = .goingAway
        return self.resumeIfWanted()
    }

    /// The client's close frame: echoed (behind the answers queued), then the socket closes.
    mutating func clientClosed() -> Action {
        switch self.state {
        case .open, .goingAway:
            self.state = .closeSent
            self.held = 0
            return .sayGoodbye(code: nil)
        case .closeSent, .closed:
            return .none
        }
    }

    /// The client broke the protocol: the handler hangs up with the violation's code.
    mutating func protocolViolated() {
        if self.state != .closed { self.state = .closeSent }
    }

    /// The idle clock rang: an idle connection (nothing read for the idle timeout, no call and
    /// no channel open) closes; a busy one is looked at again.
    mutating func idleClockRang(at now: NIODeadline, channelsOpen: Bool) -> Action {
        // The stop's own deadline bounds a goodbye, not the idle clock.
        guard self.state == .open else { return .none }
        let quietUntil = self.lastRead + self.idleTimeout
        guard now >= quietUntil else { return .checkIdleAgain(at: quietUntil) }
        guard self.unanswered == 0, !channelsOpen else { return .checkIdleAgain(at: now + self.idleTimeout) }
        return .close(reason: .idle)
    }

    /// The socket's writability changed (`unwritten`: bytes waiting to be written).
    mutating func writabilityChanged(_ writable: Bool, unwritten: Int, at now: NIODeadline) -> Action {
        guard writable != self.writable, self.state != .closed else { return .none }
        self.writable = writable
        guard writable else {
            self.unwrittenAtCheck = unwritten
            return .startSlowClientClock(until: now + self.slowClientGrace)
        }
        let resume = self.readWanted && self.mayRead
        if resume { self.readWanted = false }
        return .stopSlowClientClock(thenRead: resume)
    }

    /// The slow-client clock rang: a client that read less than `minReadPerGrace` (or a
    /// quarter of what waited, if less) during the whole grace has stopped reading and is
    /// closed (it redials); one that is reading, slowly (a large answer over a thin link), gets
    /// another grace.
    mutating func slowClientClockRang(unwritten: Int, at now: NIODeadline) -> Action {
        guard !self.writable, self.state != .closed else { return .none }
        // Nothing is added while over the bound (answers wait unframed), so what went is what
        // the client read: a byte now and then is not reading.
        let read = self.unwrittenAtCheck - unwritten
        guard read >= max(1, min(self.unwrittenAtCheck / 4, Self.minReadPerGrace)) else { return .close(reason: .notReading) }
        self.unwrittenAtCheck = unwritten
        return .startSlowClientClock(until: now + self.slowClientGrace)
    }

    /// The socket closed.
    mutating func closed() -> Action {
        guard self.state != .closed else { return .none }
        self.state = .closed
        return .tearDown
    }
}
