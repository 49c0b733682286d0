// Watches the pool's open channels while faults run: the moment the last channel a faulted
// daemon served is gone is when the pool had closed them all towards their clients.

import PoolRuntime

struct ChannelCloseWatch: Sendable {
    let pool: Pool
    let log: FaultLog
    /// How often the pool's channel table is read: fine enough against bounds of a second.
    static let tick = Duration.milliseconds(20)

    /// Runs until cancelled.
    func run() async {
        while !Task.isCancelled {
            let waiting = self.log.awaitingChannelClose
            if !waiting.isEmpty {
                let open = Set(self.pool.channelNodes.keys)
                let now = ContinuousClock.now
                for (index, channels) in waiting where channels.isDisjoint(with: open) { self.log.channelsClosed(index, at: now) }
            }
            try? await Task.sleep(for: Self.tick)
        }
    }
}
