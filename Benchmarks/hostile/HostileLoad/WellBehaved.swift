// The well-behaved clients a run measures during a hostile pattern: a steady ChainHead loop
// over one websocket, the same over HTTP with a new connection per call, and a /healthz probe.

import Foundation
import Histogram
import LoadKit
import NIOCore
import Synchronization

/// Latencies and failures of one good client, per phase.
final class CallLog: Sendable {
    struct Totals: Sendable {
        var histogram = makeHistogram()
        var ok = 0
        var errors = 0
        var firstError: String?
    }

    private let totals = Mutex([Totals](repeating: Totals(), count: Phase.allCases.count))

    func record(_ phase: Phase, nanos: UInt64) {
        self.totals.withLock { totals in
            totals[phase.rawValue].ok += 1
            totals[phase.rawValue].histogram.record(nanos)
        }
    }

    func fail(_ phase: Phase, _ error: String) {
        self.totals.withLock { totals in
            totals[phase.rawValue].errors += 1
            if totals[phase.rawValue].firstError == nil { totals[phase.rawValue].firstError = String(error.prefix(200)) }
        }
    }

    func totals(_ phase: Phase) -> Totals { self.totals.withLock { $0[phase.rawValue] } }
}

/// What /healthz said while the pattern went on.
final class HealthLog: Sendable {
    struct Totals: Sendable, Codable {
        var probes = 0
        var failures = 0
        var firstFailure: String?
        /// fpool: probes that saw fewer available daemons than the pool has.
        var degraded = 0
        var minAvailable: Int?
    }

    private let totals = Mutex([Totals](repeating: Totals(), count: Phase.allCases.count))

    func record(_ phase: Phase, available: Int?, nodes: Int?, failure: String?) {
        self.totals.withLock { totals in
            totals[phase.rawValue].probes += 1
            if let failure {
                totals[phase.rawValue].failures += 1
                if totals[phase.rawValue].firstFailure == nil { totals[phase.rawValue].firstFailure = String(failure.prefix(200)) }
            }
            if let available, let nodes {
                if available < nodes { totals[phase.rawValue].degraded += 1 }
                totals[phase.rawValue].minAvailable = min(totals[phase.rawValue].minAvailable ?? available, available)
            }
        }
    }

    func totals(_ phase: Phase) -> Totals { self.totals.withLock { $0[phase.rawValue] } }
}

enum WellBehaved {
    /// One ChainHead call every `interval` over one websocket (each waits for the previous one),
    /// each allowed `timeout`; a failed call drops the websocket and the next one dials again.
    static func webSocketLoop(
        _ endpoint: Endpoint, interval: Duration, timeout: Duration, clock: PhaseClock, log: CallLog, group: any EventLoopGroup
    ) async {
        var socket: RPCWebSocket?
        while !Task.isCancelled {
            let phase = clock.phase
            let start = nowNanos()
            do {
                if socket == nil { socket = try await RPCWebSocket.connect(endpoint, group: group) }
                let frame = try await socket!.call(.chainHead, timeout: timeout)
                if let error = frame.error {
                    log.fail(phase, error)
                } else {
                    log.record(phase, nanos: nowNanos() - start)
                }
            } catch {
                log.fail(phase, "\(error)")
                await socket?.close()
                socket = nil
            }
            try? await Self.sleep(until: start, plus: interval)
        }
        await socket?.close()
    }

    /// One ChainHead POST every `interval`, each on a new connection (as a script or a
    /// short-lived tool calls), so a proxy refusing new connections shows here.
    static func httpLoop(_ endpoint: Endpoint, interval: Duration, timeout: Duration, clock: PhaseClock, log: CallLog) async {
        let body = String(decoding: RPCMethod.chainHead.request(id: 1), as: UTF8.self)
        while !Task.isCancelled {
            let phase = clock.phase
            let start = nowNanos()
            do {
                let response = try await Connect.request(
                    port: endpoint.port, method: .POST, path: endpoint.path, body: body, token: endpoint.token, timeout: timeout)
                if response.status == 200, !response.text.contains(#""error""#) {
                    log.record(phase, nanos: nowNanos() - start)
                } else {
                    log.fail(phase, "HTTP \(response.status): \(response.text.prefix(150))")
                }
            } catch {
                log.fail(phase, "\(error)")
            }
            try? await Self.sleep(until: start, plus: interval)
        }
    }

    /// GET /healthz every `interval`; with `nodes`, fpool's count of available daemons is checked.
    static func healthLoop(port: Int, nodes: Int?, interval: Duration, timeout: Duration, clock: PhaseClock, log: HealthLog) async {
        while !Task.isCancelled {
            let phase = clock.phase
            let start = nowNanos()
            do {
                let response = try await Connect.request(port: port, path: "/healthz", timeout: timeout)
                let available = ((response.json() as? [String: Any])?["available"] as? NSNumber)?.intValue
                let failure = response.status == 200 ? nil : "HTTP \(response.status)"
                log.record(phase, available: nodes == nil ? nil : (available ?? 0), nodes: nodes, failure: failure)
            } catch {
                log.record(phase, available: nil, nodes: nil, failure: "\(error)")
            }
            try? await Self.sleep(until: start, plus: interval)
        }
    }

    private static func sleep(until start: UInt64, plus interval: Duration) async throws {
        let wake = Int64(start) + interval.nanoseconds - Int64(nowNanos())
        if wake > 0 { try await Task.sleep(for: .nanoseconds(wake)) }
    }
}
