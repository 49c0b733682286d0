// The time source for heartbeats, waits and timeouts; tests drive their own.

/// Monotonic time and sleeping, as the pool needs them.
public protocol PoolClock: Sendable {
    /// Time since an arbitrary fixed origin; never goes backwards.
    var now: Duration { get }
    /// Sleeps for `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemPoolClock: PoolClock {
    private let origin = ContinuousClock.now

    /// A clock whose origin is the moment it is made.
    public init() {}

    /// Time since this clock was made, from `ContinuousClock` (it keeps counting while the machine sleeps).
    public var now: Duration { self.origin.duration(to: .now) }

    /// Sleeps with `Task.sleep`; throws `CancellationError` when the task is cancelled.
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
