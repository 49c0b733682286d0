// The client websocket's lifecycle decided as values: back-pressure, goodbye, idle and the
// slow-reader rule, each transition checked without a socket.

import NIOCore
import Testing

@testable import PoolServer

@Suite struct ClientWebSocketStateMachineTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func machine(cap: Int = 3) -> ClientWebSocketStateMachine {
        ClientWebSocketStateMachine(maxCallsInFlight: cap, idleTimeout: .seconds(60), slowClientGrace: .seconds(30), now: self.start)
    }

    @Test("reading stops at the cap on calls in flight and resumes when one is answered")
    func readingStopsAtTheCap() {
        var machine = self.machine(cap: 2)
        #expect(machine.readRequested() == .read)
        #expect(machine.requestRead() == .start)
        #expect(machine.readRequested() == .read)
        #expect(machine.requestRead() == .start)
        // At the cap: the pipeline's read is held, not passed on.
        #expect(machine.readRequested() == .pauseReading(.callsInFlight))
        #expect(machine.requestAnswered() == .read)
        // The held read was given once; the next answer has nothing to resume.
        #expect(machine.requestAnswered() == .none)
    }

    @Test("requests read past the cap wait, and start one per answer")
    func requestsPastTheCapWait() {
        var machine = self.machine(cap: 1)
        #expect(machine.requestRead() == .start)
        #expect(machine.requestRead() == .hold)
        #expect(machine.requestRead() == .hold)
        #expect(machine.readRequested() == .pauseReading(.callsInFlight))
        #expect(machine.takeHeld() == false)
        #expect(machine.requestAnswered() == .none)
        #expect(machine.takeHeld() == true)
        #expect(machine.takeHeld() == false)
        #expect(machine.requestAnswered() == .none)
        #expect(machine.takeHeld() == true)
        #expect(machine.held == 0)
        #expect(machine.readRequested() == .pauseReading(.callsInFlight))
        #expect(machine.requestAnswered() == .read)
    }

    @Test("requests held while the client is over its write bound start once it drains")
    func heldWhileUnwritable() {
        var machine = self.machine(cap: 10)
        _ = machine.writabilityChanged(false, unwritten: 100, at: self.start)
        #expect(machine.requestRead() == .hold)
        #expect(machine.requestRead() == .hold)
        #expect(machine.takeHeld() == false)
        _ = machine.writabilityChanged(true, unwritten: 0, at: self.start)
        #expect(machine.takeHeld() == true)
        #expect(machine.takeHeld() == true)
        #expect(machine.takeHeld() == false)
    }

    @Test("held requests are dropped, never started, when the server goes away")
    func heldRequestsDroppedOnQuiesce() {
        var machine = self.machine(cap: 1)
        _ = machine.requestRead()
        _ = machine.requestRead()
        #expect(machine.quiesce() == .none)
        #expect(machine.held == 0)
        #expect(machine.requestAnswered() == .sayGoodbye(code: 1001))
    }

    @Test("reading stops while the client is over its write bound, and resumes once it drains")
    func readingStopsWhileUnwritable() {
        var machine = self.machine()
        #expect(
            machine.writabilityChanged(false, unwritten: 100, at: self.start) == .startSlowClientClock(until: self.start + .seconds(30)))
        #expect(machine.readRequested() == .pauseReading(.unwritten))
        #expect(machine.writabilityChanged(true, unwritten: 10, at: self.start) == .stopSlowClientClock(thenRead: true))
        #expect(machine.readRequested() == .read)
    }

    @Test("a drained client stays paused while it is still at the cap")
    func drainedButAtTheCapStaysPaused() {
        var machine = self.machine(cap: 1)
        _ = machine.requestRead()
        _ = machine.writabilityChanged(false, unwritten: 100, at: self.start)
        #expect(machine.readRequested() == .pauseReading(.unwritten))
        #expect(machine.writabilityChanged(true, unwritten: 0, at: self.start) == .stopSlowClientClock(thenRead: false))
        #expect(machine.requestAnswered() == .read)
    }

    @Test("a client reading nothing for the whole grace is closed; one reading slowly gets another grace")
    func slowReaderRule() {
        var machine = self.machine()
        _ = machine.writabilityChanged(false, unwritten: 1000, at: self.start)
        let later = self.start + .seconds(30)
        #expect(machine.slowClientClockRang(unwritten: 700, at: later) == .startSlowClientClock(until: later + .seconds(30)))
        #expect(machine.slowClientClockRang(unwritten: 700, at: later + .seconds(30)) == .close(reason: .notReading))
    }

    @Test("a client over its bound that reads a byte now and then is closed: it must read 1 MiB a grace, or a quarter")
    func tricklingReaderIsClosed() {
        var machine = self.machine()
        let unwritten = 20 << 20
        _ = machine.writabilityChanged(false, unwritten: unwritten, at: self.start)
        // Before, any progress at all gave another grace, for ever.
        let later = self.start + .seconds(30)
        #expect(machine.slowClientClockRang(unwritten: unwritten - 1, at: later) == .close(reason: .notReading))
        var reading = self.machine()
        _ = reading.writabilityChanged(false, unwritten: unwritten, at: self.start)
        let read = ClientWebSocketStateMachine.minReadPerGrace
        #expect(reading.slowClientClockRang(unwritten: unwritten - read, at: later) == .startSlowClientClock(until: later + .seconds(30)))
        // A small backlog: a quarter of it is enough.
        var small = self.machine()
        _ = small.writabilityChanged(false, unwritten: 1000, at: self.start)
        #expect(small.slowClientClockRang(unwritten: 760, at: later) == .close(reason: .notReading))
    }

    @Test("quiescing with calls open waits for their answers, then says goodbye with 1001")
    func quiesceWaitsForAnswers() {
        var machine = self.machine()
        _ = machine.requestRead()
        _ = machine.requestRead()
        #expect(machine.quiesce() == .none)
        #expect(machine.state == .goingAway)
        // Requests read from now on are never started.
        #expect(machine.requestRead() == .drop)
        #expect(machine.requestAnswered() == .none)
        #expect(machine.requestAnswered() == .sayGoodbye(code: 1001))
        #expect(machine.state == .closeSent)
    }

    @Test("quiescing an idle connection says goodbye at once, and only once")
    func quiesceWhenIdle() {
        var machine = self.machine()
        #expect(machine.quiesce() == .sayGoodbye(code: 1001))
        #expect(machine.quiesce() == .none)
        #expect(machine.clientClosed() == .none)
    }

    @Test("a client's close is echoed once; requests after it are dropped")
    func clientCloseIsEchoed() {
        var machine = self.machine()
        _ = machine.requestRead()
        #expect(machine.clientClosed() == .sayGoodbye(code: nil))
        #expect(machine.requestRead() == .drop)
        // The call still open is answered (or given up) without a second goodbye.
        #expect(machine.requestAnswered() == .none)
    }

    @Test("the idle clock closes only a connection with nothing read, no call and no channel")
    func idleRule() {
        var machine = self.machine()
        let idle = self.start + .seconds(60)
        machine.bytesRead(at: self.start + .seconds(10))
        #expect(machine.idleClockRang(at: idle, channelsOpen: false) == .checkIdleAgain(at: self.start + .seconds(70)))
        let quiet = self.start + .seconds(70)
        #expect(machine.idleClockRang(at: quiet, channelsOpen: true) == .checkIdleAgain(at: quiet + .seconds(60)))
        _ = machine.requestRead()
        #expect(machine.idleClockRang(at: quiet, channelsOpen: false) == .checkIdleAgain(at: quiet + .seconds(60)))
        _ = machine.requestAnswered()
        #expect(machine.idleClockRang(at: quiet, channelsOpen: false) == .close(reason: .idle))
    }

    @Test("a closed connection tears down once and reads nothing")
    func closedTearsDownOnce() {
        var machine = self.machine()
        #expect(machine.closed() == .tearDown)
        #expect(machine.closed() == .none)
        #expect(machine.readRequested() == .none)
    }
}
