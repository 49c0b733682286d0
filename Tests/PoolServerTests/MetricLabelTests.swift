// Labels of /metrics: one name per method, whatever event counts it, and a bounded set of
// series whatever names clients send.

import Testing

@testable import PoolServer

@Suite struct MetricLabelTests {
    /// Retries and hedges are labelled by route name, as calls are; 500 names in no table (an
    /// admin may send any) are one "unlisted" series, not 500.
    @Test func eventLabelsAreRouteNamesAndNamesInNoTableShareOne() {
        let metrics = PoolMetrics()
        for index in 0..<500 {
            metrics.retried(method: "Filecoin.Made\(index)", node: "a", reason: "network: no answer")
            metrics.hedgeSent(method: "Filecoin.Up\(index)")
        }
        metrics.retried(method: "Filecoin.StateGetActor", node: "a", reason: "network: no answer")
        metrics.hedgeSent(method: "Filecoin.StateGetActor")
        let text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
        let retries = text.split(separator: "\n").filter { $0.hasPrefix("fpool_retries_total{") }
        let hedges = text.split(separator: "\n").filter { $0.hasPrefix("fpool_hedges_sent_total{") }
        #expect(retries.count == 2, "\(retries)")
        #expect(retries.contains { $0.contains(#"method="unlisted""#) && $0.hasSuffix(" 500") })
        #expect(retries.contains { $0.contains(#"method="StateGetActor""#) && $0.hasSuffix(" 1") })
        #expect(hedges.count == 2, "\(hedges)")
        #expect(hedges.contains { $0.contains(#"method="StateGetActor""#) })
    }
}
