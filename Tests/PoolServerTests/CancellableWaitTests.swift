// A test's time limit really ends a wait that nobody would end: the support waits return when
// their task is cancelled, as Swift Testing cancels a test past its limit.

import FPoolTestSupport
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1))) struct CancellableWaitTests {
    @Test func aFinishedWaitGivesItsResult() async {
        #expect(await untilCancelled({ 5 }, cancelled: { -1 }) == 5)
    }

    @Test func aWaitNobodyEndsReturnsOnceItsTaskIsCancelled() async {
        let parked = Mutex<CheckedContinuation<Int, Never>?>(nil)
        let waiting = Task {
            await untilCancelled(
                { await withCheckedContinuation { continuation in parked.withLock { $0 = continuation } } }, cancelled: { -1 })
        }
        waiting.cancel()
        #expect(await waiting.value == -1)
        // The wait left behind, ended so that nothing leaks.
        parked.withLock { $0.take() }?.resume(returning: 0)
    }

    @Test func aLogWaitEndsWhenTheTestIsCancelled() async {
        let logs = LogCapture()
        let waiting = Task { await logs.waitForLine(containing: "never written") }
        waiting.cancel()
        await waiting.value
        // The line comes later: the wait left behind ends too, and nothing leaks.
        logs.sink("never written, until now")
        #expect(logs.all == ["never written, until now"])
    }
}
