// The hostile patterns, their sizes, and what one of them did (a line for the report).

import ArgumentParser
import LoadKit
import NIOCore

enum Pattern: String, Sendable, Codable, CaseIterable, ExpressibleByArgument {
    /// Websockets that send many calls and read no answer.
    case wsFlood = "ws-flood"
    /// POSTs whose body arrives fast up to a point, then never finishes.
    case stalledBody = "stalled-body"
    /// Requests whose head arrives one line every few seconds.
    case trickledHeaders = "trickled-headers"
    /// Thousands of idle TCP connections.
    case connectionFlood = "connection-flood"
    /// One websocket sending tens of thousands of calls at once, reading the answers.
    case pipeline

    var title: String {
        switch self {
        case .wsFlood: "non-reading websockets flooding calls"
        case .stalledBody: "unfinished request bodies"
        case .trickledHeaders: "headers trickled"
        case .connectionFlood: "connection flood"
        case .pipeline: "one websocket pipelining"
        }
    }
}

/// How big each pattern is (run.sh's defaults are the issue's).
struct PatternSizes: Sendable {
    var floodSockets = 4
    var floodCalls = 40_000
    var bodyConnections = 10
    var bodyBytes = 90_000_000
    var bodyDeclared = 100_000_000
    var trickleConnections = 20
    var trickleInterval: Duration = .seconds(2)
    var idleConnections = 6000
    var pipelineCalls = 60_000
    /// The longest a pattern's connections are held (or its calls awaited).
    var hold: Duration = .seconds(45)
}

/// What a pattern did, as the report says it.
struct Outcome: Sendable {
    var summary: String
}

/// `1,234,567`
func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (index, character) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(character)
    }
    return (value < 0 ? "-" : "") + out
}

func seconds(since start: UInt64, _ end: UInt64 = nowNanos()) -> String {
    String(format: "%.1f s", Double(end &- start) / 1e9)
}

/// Waits until `done` holds or `limit` passed, looking every 100 ms.
func wait(atMost limit: Duration, until done: () -> Bool) async {
    let deadline = nowNanos() + UInt64(limit.nanoseconds)
    while !done(), nowNanos() < deadline {
        try? await Task.sleep(for: .milliseconds(100))
    }
}

/// When each of a set of connections closed (nil: still open).
func closeTimes(_ connections: [RawConnection]) -> [UInt64?] { connections.map(\.closedAt) }

/// "closed by the proxy 10/10, 30.2–31.0 s after <event>" or "still open after …".
func closings(_ times: [UInt64?], after start: UInt64, event: String, held: Duration) -> String {
    let closed = times.compactMap { $0 }.map { Double(Int64(bitPattern: $0 &- start)) / 1e9 }
    guard let first = closed.min(), let last = closed.max() else {
        return "none closed by the proxy within \(Int(held.seconds)) s of \(event)"
    }
    let span = first == last ? String(format: "%.1f s", first) : String(format: "%.1f–%.1f s", first, last)
    return "closed by the proxy: \(closed.count)/\(times.count), \(span) after \(event)"
}
