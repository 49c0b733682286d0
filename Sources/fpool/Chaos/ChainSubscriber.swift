// A ChainNotify client as a miner's WindowPoSt scheduler is one: it keeps a channel open,
// and when fpool closes it (its daemon went bad) subscribes again at once.

import LotusSim
import LotusWire

struct ChainSubscriber: Sendable {
    let index: Int
    let client: ChaosClient
    let recorder: ChaosRecorder
    let cluster: SimCluster
    let configuration: ChaosConfiguration

    /// Subscribes, reads, and subscribes again, until cancelled.
    func run() async {
        var closedAt: ContinuousClock.Instant?
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let subscription: LotusSubscription
            do {
                subscription = try await self.client.subscribe(limit: self.configuration.callLimit)
            } catch {
                guard !Task.isCancelled else { return }
                self.recorder.subscriptionRefused(started: started, error: error)
                // Pacing between attempts, as a miner's loop has: no storm against the pool.
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            self.recorder.subscribed()
            var channel = ChannelReading()
            for await value in subscription.values {
                guard let changes = value.array else {
                    self.recorder.value(self.index, gap: false, wrong: "not a list of head changes: \(value)")
                    continue
                }
                for change in changes {
                    let (gap, wrong) = channel.read(change, networkHeight: self.cluster.networkHeight)
                    self.recorder.value(self.index, gap: gap, wrong: wrong)
                }
                if let closed = closedAt {
                    self.recorder.resubscribed(after: ContinuousClock.now - closed)
                    closedAt = nil
                }
            }
            // The values end: fpool closed the channel (or the connection, which the client
            // counts when it dials again).
            guard !Task.isCancelled else { return }
            if channel.sawValue {
                self.recorder.channelClosed()
                closedAt = closedAt ?? ContinuousClock.now
            }
        }
    }
}
