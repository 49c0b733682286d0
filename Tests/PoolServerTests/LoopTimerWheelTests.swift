// The hedge timers' wheel on an embedded loop's virtual time: timers fire in their slot and
// never early, a cancelled one never fires and lets go of what it holds, and a wheel that sat
// idle or holds far-off timers still keeps each one to its own time.

import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import PoolServer

@Suite struct LoopTimerWheelTests {
    /// Which timers fired, in order.
    final class Firings: Sendable {
        private let names = Mutex<[String]>([])
        var fired: [String] { self.names.withLock { $0 } }

        func timer(_ name: String) -> WheelTimer {
            WheelTimer { self.names.withLock { $0.append(name) } }
        }
    }

    /// A wheel on an embedded loop, whose time moves only when the test advances it.
    static func wheel() -> (EmbeddedEventLoop, LoopTimerWheel, Firings) {
        let loop = EmbeddedEventLoop()
        return (loop, LoopTimerWheel(loop: loop), Firings())
    }

    @Test("a timer fires once its delay has passed, not a slot before")
    func firesAfterItsDelay() {
        let (loop, wheel, firings) = Self.wheel()
        #expect(wheel.arm(firings.timer("a"), after: .milliseconds(10)))
        loop.advanceTime(by: .milliseconds(9))
        #expect(firings.fired.isEmpty)
        loop.advanceTime(by: .milliseconds(2))
        #expect(firings.fired == ["a"])
        loop.advanceTime(by: .seconds(5))
        #expect(firings.fired == ["a"])
    }

    @Test("a later timer armed first does not hold back an earlier one")
    func earlierTimerRearmsTheSweep() {
        let (loop, wheel, firings) = Self.wheel()
        #expect(wheel.arm(firings.timer("late"), after: .milliseconds(300)))
        #expect(wheel.arm(firings.timer("early"), after: .milliseconds(10)))
        loop.advanceTime(by: .milliseconds(11))
        #expect(firings.fired == ["early"])
        loop.advanceTime(by: .milliseconds(280))
        #expect(firings.fired == ["early"])
        loop.advanceTime(by: .milliseconds(10))
        #expect(firings.fired == ["early", "late"])
    }

    @Test("a cancelled timer never fires and frees what its body holds at once")
    func cancelledTimerNeverFires() {
        final class Held: Sendable {}
        let (loop, wheel, firings) = Self.wheel()
        weak var watched: Held?
        let timer: WheelTimer = {
            let held = Held()
            watched = held
            return WheelTimer { _ = held }
        }()
        #expect(wheel.arm(timer, after: .milliseconds(50)))
        #expect(wheel.arm(firings.timer("kept"), after: .milliseconds(50)))
        #expect(watched != nil)
        timer.cancel()
        #expect(watched == nil)
        loop.advanceTime(by: .milliseconds(60))
        #expect(firings.fired == ["kept"])
    }

    @Test("after a long idle spell, and past a whole turn of the ring, timers keep their times")
    func idleAndFarTimersKeepTheirTimes() {
        let (loop, wheel, firings) = Self.wheel()
        // Idle for longer than the ring: the new timer must not land in an unswept slot.
        loop.advanceTime(by: .seconds(10))
        #expect(wheel.arm(firings.timer("after idle"), after: .milliseconds(100)))
        loop.advanceTime(by: .milliseconds(99))
        #expect(firings.fired.isEmpty)
        loop.advanceTime(by: .milliseconds(2))
        #expect(firings.fired == ["after idle"])

        // Two far timers 3 s apart: the second one's slot index wraps onto a tick the wheel
        // has not swept yet (its sweep waits for the first timer).
        #expect(wheel.arm(firings.timer("first"), after: .milliseconds(4000)))
        loop.advanceTime(by: .milliseconds(3000))
        #expect(wheel.arm(firings.timer("second"), after: .milliseconds(4000)))
        loop.advanceTime(by: .milliseconds(1001))
        #expect(firings.fired == ["after idle", "first"])
        loop.advanceTime(by: .milliseconds(2998))
        #expect(firings.fired == ["after idle", "first"])
        loop.advanceTime(by: .milliseconds(2))
        #expect(firings.fired == ["after idle", "first", "second"])
    }

    @Test("a timer's body may arm another, which fires in its own time")
    func bodyArmsAnotherTimer() {
        let (loop, wheel, firings) = Self.wheel()
        let chained = firings.timer("chained")
        #expect(wheel.arm(WheelTimer { _ = wheel.arm(chained, after: .milliseconds(20)) }, after: .milliseconds(5)))
        #expect(wheel.arm(firings.timer("other"), after: .milliseconds(100)))
        loop.advanceTime(by: .milliseconds(6))
        #expect(firings.fired.isEmpty)
        loop.advanceTime(by: .milliseconds(20))
        #expect(firings.fired == ["chained"])
        loop.advanceTime(by: .milliseconds(80))
        #expect(firings.fired == ["chained", "other"])
    }

    @Test("a delay beyond the ring is refused, for NIO's own timers to take")
    func delayBeyondTheRingIsRefused() {
        let (_, wheel, _) = Self.wheel()
        #expect(!wheel.arm(WheelTimer {}, after: .seconds(5)))
        #expect(wheel.arm(WheelTimer {}, after: .seconds(3)))
    }
}
