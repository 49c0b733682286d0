// Waits for a state the code under test announces no event for (the pool's table of client
// channels): looked at every few milliseconds within a bound, so a test fails, never hangs.

/// Whether `condition` held within `limit`; it is looked at every 5 ms.
public func holds(within limit: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
    await holds(within: limit, asking: { condition() })
}

/// Whether `condition`, which asks something of another process (an `fpool` started by the
/// test), came true within `limit`; it is asked again every 5 ms after each answer.
public func holds(within limit: Duration = .seconds(20), asking condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while !(await condition()) {
        guard clock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}
