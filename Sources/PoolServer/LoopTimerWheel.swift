// One event loop's hedge timers in 1 ms slots: every read arms one and nearly every one is
// made moot by its answer, so arming must cost next to nothing and a moot timer nothing at all.
// NIO's scheduled callbacks sit in a heap whose cancel searches it linearly, copying each task
// (about 1.4 µs of the 17 µs fpool spent per forwarded call); here arming appends the target to
// a slot, a read's answer leaves it there (the target ignores a late call), and one NIO callback
// per loop sweeps the slots that came due.

import NIOCore
import NIOPosix
import PoolRuntime
import Synchronization

/// A closure timer of the wheel: its body until it fires or is cancelled (from any thread).
final class WheelTimer: PoolCancellable, PoolTimerTarget {
    private let body: Mutex<(@Sendable () -> Void)?>

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = Mutex(body)
    }

    /// Drops the body at once, so what it holds (a call's progress) is freed now, not when the
    /// slot is swept.
    func cancel() {
        self.body.withLock { $0 = nil }
    }

    func timerFired() {
        let body = self.body.withLock { body in
            defer { body = nil }
            return body
        }
        body?()
    }
}

/// The timers of one event loop, touched only on that loop. A slot holds its targets until it is
/// swept, answered or not: at most the reads of one hedge delay (one slot's worth of small
/// objects per millisecond), which is what the loop had in flight anyway.
final class LoopTimerWheel: Sendable {
    /// Slot width; a timer fires up to one slot late, never early.
    static let slot = TimeAmount.milliseconds(1)
    /// Slots in the ring: delays up to about 4 s (auto hedge delays stop at 3 s) go in the wheel,
    /// longer ones to NIO's own timers.
    static let slotCount = 4096
    static let horizon = TimeAmount.nanoseconds(slot.nanoseconds * Int64(slotCount - 2))

    private struct State {
        var slots: [[any PoolTimerTarget]] = Array(repeating: [], count: LoopTimerWheel.slotCount)
        /// Timers in the slots, cancelled ones included (they leave when swept).
        var count = 0
        /// Every slot up to this tick has been swept.
        var sweptTick: Int64
        /// The tick the sweep is armed for, and its handle.
        var armedTick: Int64?
        var armed: NIOScheduledCallback?
        /// A sweep is firing timers: it arms the next sweep itself when done.
        var sweeping = false

        mutating func add(_ timer: any PoolTimerTarget, due: Int64) -> Int64? {
            // Never into a slot already swept (it would wait a whole turn of the ring).
            let due = max(due, self.sweptTick + 1)
            self.slots[LoopTimerWheel.index(of: due)].append(timer)
            self.count += 1
            if self.sweeping { return nil }
            if let armed = self.armedTick, armed <= due { return nil }
            return due
        }

        /// Takes the timers of every slot due by `now`. Every timer's tick lies within one turn
        /// of the ring after `sweptTick` (`arm` sweeps first when a new one would not), so a
        /// slot holds the timers of one tick only.
        mutating func takeDue(now: Int64) -> [[any PoolTimerTarget]] {
            guard now > self.sweptTick else { return [] }
            // Behind by a whole turn or more (an idle or stalled loop): every slot is due.
            let ticks = now - self.sweptTick >= Int64(LoopTimerWheel.slotCount) ? (0...Int64(LoopTimerWheel.slotCount - 1)) : (self.sweptTick + 1)...now
            var due: [[any PoolTimerTarget]] = []
            for tick in ticks where self.count > 0 {
                let index = LoopTimerWheel.index(of: tick)
                guard !self.slots[index].isEmpty else { continue }
                due.append(self.slots[index])
                self.count -= self.slots[index].count
                self.slots[index] = []
            }
            self.sweptTick = now
            return due
        }

        /// Whether a timer due at `due` would land more than a turn of the ring ahead.
        func isBeyondRing(_ due: Int64) -> Bool {
            due - self.sweptTick >= Int64(LoopTimerWheel.slotCount)
        }

        /// The first tick with timers, when any are left.
        func nextDue() -> Int64? {
            guard self.count > 0 else { return nil }
            var tick = self.sweptTick + 1
            while self.slots[LoopTimerWheel.index(of: tick)].isEmpty { tick += 1 }
            return tick
        }
    }

    private let loop: any EventLoop
    private let state: NIOLoopBoundBox<State>

    init(loop: any EventLoop) {
        self.loop = loop
        self.state = NIOLoopBoundBox(State(sweptTick: Self.tick(of: loop.now)), eventLoop: loop)
    }

    private static func tick(of deadline: NIODeadline) -> Int64 {
        Int64(deadline.uptimeNanoseconds) / Self.slot.nanoseconds
    }

    private static func index(of tick: Int64) -> Int {
        Int(tick % Int64(Self.slotCount))
    }

    /// Arms `timer` to fire after `delay` (on this loop, which must be the calling thread's).
    /// False when the delay is beyond the wheel's horizon.
    func arm(_ timer: any PoolTimerTarget, after delay: TimeAmount) -> Bool {
        guard delay < Self.horizon else { return false }
        // Rounded up: never early.
        let due = (Int64(self.loop.now.uptimeNanoseconds) + max(0, delay.nanoseconds) + Self.slot.nanoseconds - 1) / Self.slot.nanoseconds
        // The wheel has not swept for a while (idle, or its next timer far off): catch up first,
        // so the new timer shares its slot with no other tick's.
        if self.state.value.isBeyondRing(due) { self.sweep() }
        if let sweepAt = self.state.withValue({ $0.add(timer, due: due) }) { self.armSweep(at: sweepAt) }
        return true
    }

    private func armSweep(at tick: Int64) {
        let deadline = NIODeadline.uptimeNanoseconds(UInt64(tick * Self.slot.nanoseconds))
        let callback = try? self.loop.scheduleCallback(at: deadline, handler: Sweep(wheel: self))
        let replaced = self.state.withValue { state in
            defer {
                state.armedTick = callback == nil ? nil : tick
                state.armed = callback
            }
            return state.armed
        }
        replaced?.cancel()
    }

    /// Fires every timer whose slot came due, then arms the sweep for the next slot with timers.
    fileprivate func sweep(armedFired: Bool = false) {
        let (due, pending) = self.state.withValue { state in
            defer {
                state.armed = nil
                state.armedTick = nil
            }
            state.sweeping = true
            return (state.takeDue(now: Self.tick(of: self.loop.now)), state.armed)
        }
        // Swept early (from `arm`): the armed sweep is re-armed below if still needed.
        if !armedFired { pending?.cancel() }
        // Fired outside the state: a body may arm new timers.
        for slot in due {
            for timer in slot { timer.timerFired() }
        }
        let next = self.state.withValue { state in
            state.sweeping = false
            return state.nextDue()
        }
        if let next { self.armSweep(at: next) }
    }

    private struct Sweep: NIOScheduledCallbackHandler, Sendable {
        let wheel: LoopTimerWheel

        func handleScheduledCallback(eventLoop: some EventLoop) { self.wheel.sweep(armedFired: true) }
    }

    private static let current = ThreadSpecificVariable<LoopTimerWheel>()

    /// The wheel of the calling thread's event loop; nil off the event loops.
    static func ofCurrentLoop() -> LoopTimerWheel? {
        if let wheel = Self.current.currentValue { return wheel }
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return nil }
        let wheel = LoopTimerWheel(loop: loop)
        Self.current.currentValue = wheel
        return wheel
    }
}
