// The simulated network's time: the wall clock while a block timer runs, or a virtual clock
// that moves one block time per step when tests drive the chain, so head ages are exact.

import Foundation

/// What "now" is for tipset timestamps and for NodeStatus's head age. A value type: the world
/// keeps it under its lock.
struct SimClock: Sendable {
    /// The block time in whole seconds (at least 1), as Lotus's BlockDelaySecs.
    let blockSeconds: UInt64
    /// Seconds since 1970 on the virtual clock; nil when following the wall clock.
    private(set) var virtualNow: UInt64?

    /// A wall clock, or (`virtual`) a clock standing at `start` until block times pass.
    init(start: UInt64, blockSeconds: UInt64, virtual: Bool) {
        self.blockSeconds = max(1, blockSeconds)
        self.virtualNow = virtual ? start : nil
    }

    /// Milliseconds since 1970.
    var nowMilliseconds: UInt64 {
        if let virtualNow = self.virtualNow { return virtualNow * 1000 }
        return UInt64(Date().timeIntervalSince1970 * 1000)
    }

    /// Seconds since 1970: what a tipset produced now carries as its timestamp.
    var nowSeconds: UInt64 { self.nowMilliseconds / 1000 }

    /// One block time has passed (the virtual clock moves; the wall clock moves by itself).
    mutating func blockTimePassed() {
        if let virtualNow = self.virtualNow { self.virtualNow = virtualNow + self.blockSeconds }
    }

    /// How many whole block times ago `timestamp` was: Lotus's NodeStatus `Behind`
    /// (node/impl/full.go divides the head's age by 30 s, Filecoin's block time; the simulator
    /// divides by its own). A head from the future counts as 0, not as a wrapped-around age.
    func blockTimes(since timestamp: UInt64) -> Int64 {
        let now = self.nowMilliseconds
        let then = timestamp * 1000
        return now > then ? Int64((now - then) / (self.blockSeconds * 1000)) : 0
    }
}
