// The client HTTP connection's clock decided as values: idle keep-alive, the request deadline
// and the time a large body earns at the minimum rate.

import NIOCore
import Testing

@testable import PoolServer

@Suite struct ClientHTTPStateMachineTests {
    let start = NIODeadline.uptimeNanoseconds(5_000_000_000)
    let limits = ClientHTTPLimits(
        idleTimeout: .seconds(60), requestTimeout: .seconds(30), minBytesPerSecond: 1000, maxRequestBytes: 100_000)

    @Test("an idle connection closes after the idle timeout, not before")
    func idleCloses() {
        var machine = ClientHTTPStateMachine(limits: self.limits, now: self.start)
        #expect(machine.clockRang(at: self.start + .seconds(59)) == .checkAgain(at: self.start + .seconds(60)))
        #expect(machine.clockRang(at: self.start + .seconds(60)) == .closeIdle)
    }

    @Test("a request trickling in is answered 408 at its deadline, however often bytes arrive")
    func trickleTimesOut() {
        var machine = ClientHTTPStateMachine(limits: self.limits, now: self.start)
        // One header line every 2 s: an idle clock alone would never ring.
        for second in stride(from: 0, to: 30, by: 2) { machine.bytesArrived(1, at: self.start + .seconds(Int64(second))) }
        // 15 bytes earn 15 ms at 1000 bytes/s.
        #expect(machine.deadline == self.start + .seconds(30) + .milliseconds(15))
        #expect(machine.clockRang(at: self.start + .seconds(31)) == .timeOut)
        #expect(machine.state == .closed)
    }

    @Test("a large body earns time at the minimum rate, up to the request limit")
    func largeBodyEarnsTime() {
        var limits = self.limits
        limits.maxSilence = .seconds(1000)
        var machine = ClientHTTPStateMachine(limits: limits, now: self.start)
        machine.bytesArrived(50_000, at: self.start)
        #expect(machine.deadline == self.start + .seconds(80))
        // Bytes past the request limit earn nothing: an endless body still ends.
        machine.bytesArrived(10_000_000, at: self.start + .seconds(1))
        #expect(machine.deadline == self.start + .seconds(130))
    }

    @Test("a body sent fast that then stops is closed after the silence allowed, not the time it earned")
    func fastThenStalledBodyIsClosedAfterTheSilence() {
        var machine = ClientHTTPStateMachine(limits: self.limits, now: self.start)
        // 90 kB at once earn 90 s at 1000 bytes/s; its buffer must not be held that long.
        machine.bytesArrived(90_000, at: self.start + .seconds(1))
        #expect(machine.deadline == self.start + .seconds(11))
        #expect(machine.clockRang(at: self.start + .seconds(11)) == .timeOut)
    }

    @Test("an answer must be read by the request timeout plus the time its size earns; read in time, the connection idles")
    func answerWritingHasADeadline() {
        var machine = ClientHTTPStateMachine(limits: self.limits, now: self.start)
        machine.bytesArrived(100, at: self.start)
        machine.requestRead()
        // 5,000 bytes earn 5 s at 1000 bytes/s.
        machine.answerWriting(bytes: 5_000, at: self.start + .seconds(100))
        #expect(machine.deadline == self.start + .seconds(135))
        #expect(machine.clockRang(at: self.start + .seconds(120)) == .checkAgain(at: self.start + .seconds(135)))
        #expect(machine.clockRang(at: self.start + .seconds(135)) == .closeSlowReader)
        #expect(machine.state == .closed)
        var reading = ClientHTTPStateMachine(limits: self.limits, now: self.start)
        reading.bytesArrived(100, at: self.start)
        reading.requestRead()
        reading.answerWriting(bytes: 5_000, at: self.start + .seconds(1))
        reading.answered(at: self.start + .seconds(2))
        #expect(reading.state == .idle(since: self.start + .seconds(2)))
    }

    @Test("a request being answered has no deadline; keep-alive then starts a new idle period")
    func answeringThenIdle() {
        var machine = ClientHTTPStateMachine(limits: self.limits, now: self.start)
        machine.bytesArrived(100, at: self.start)
        machine.requestRead()
        #expect(machine.deadline == nil)
        #expect(machine.clockRang(at: self.start + .seconds(500)) == .none)
        machine.answered(at: self.start + .seconds(500))
        #expect(machine.state == .idle(since: self.start + .seconds(500)))
    }

    @Test("a pipelined request is timed from when its head is handed over")
    func pipelinedRequestTimedFromItsHead() {
        var machine = ClientHTTPStateMachine(limits: self.limits, now: self.start)
        machine.bytesArrived(100, at: self.start)
        machine.requestRead()
        machine.bytesArrived(100, at: self.start + .seconds(1))
        machine.answered(at: self.start + .seconds(40))
        machine.requestBegan(at: self.start + .seconds(40))
        // Its body must start within the silence allowed (and all of it within 30 s).
        #expect(machine.deadline == self.start + .seconds(50))
    }

    @Test("an upgraded connection's clock is the websocket's, not this one")
    func upgradedHasNoClock() {
        var machine = ClientHTTPStateMachine(limits: self.limits, now: self.start)
        machine.upgraded()
        #expect(machine.deadline == nil)
    }
}
