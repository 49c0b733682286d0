// The connection cap's choice: the connection idle the longest makes room, a busy one never,
// and with none idle the reserve, then a refusal.

import NIOCore
import NIOEmbedded
import Testing

@testable import PoolServer

@Suite struct ClientConnectionBudgetTests {
    @Test("at the cap the connection idle the longest is closed for the new one, never a busy one")
    func longestIdleMakesRoom() {
        let budget = ClientConnectionBudget(cap: 2, reserve: 1)
        let (a, b) = (EmbeddedChannel(), EmbeddedChannel())
        #expect(budget.admit().admission == .served)
        #expect(budget.admit().admission == .served)
        budget.setIdle(a, waiting: true)
        budget.setIdle(b, waiting: true)
        // `a` served a request since: `b` has now waited the longest.
        budget.setIdle(a, waiting: false)
        budget.setIdle(a, waiting: true)
        let first = budget.admit()
        #expect(first.admission == .served && first.evicted === b)
        budget.release(b)
        let second = budget.admit()
        #expect(second.admission == .served && second.evicted === a)
        budget.release(a)
        // Nobody idle: the reserve, then refusals.
        #expect(budget.admit().admission == .reserve)
        #expect(budget.admit().admission == .refused)
    }

    @Test("a connection going busy and idle again many times keeps the budget's memory bounded")
    func staleTurnsAreDropped() {
        let budget = ClientConnectionBudget(cap: 1, reserve: 0)
        let channel = EmbeddedChannel()
        _ = budget.admit()
        for _ in 0..<10_000 {
            budget.setIdle(channel, waiting: true)
            budget.setIdle(channel, waiting: false)
        }
        budget.setIdle(channel, waiting: true)
        #expect(budget.waitingTurns <= 2 * 1 + 64 + 1)
        #expect(budget.admit().evicted === channel)
    }
}
