// The HTTP patterns: request bodies sent fast up to a point and then never finished, and
// request heads trickled one line every few seconds.

import LoadKit
import NIOCore

enum HTTPPatterns {
    /// `bodyConnections` POSTs announce `bodyDeclared` bytes, send `bodyBytes` of them as fast
    /// as the proxy takes them, then send nothing; held until the proxy closes them all or
    /// `hold` passes after the last one stalled.
    static func stalledBody(_ endpoint: Endpoint, sizes: PatternSizes, group: any EventLoopGroup) async throws -> Outcome {
        var connections: [RawConnection] = []
        defer { for connection in connections { connection.close() } }
        for _ in 0..<sizes.bodyConnections {
            connections.append(try await RawConnection.open(host: endpoint.host, port: endpoint.port, group: group))
        }
        let head =
            "POST \(endpoint.path) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\nContent-Type: application/json\r\nContent-Length: \(sizes.bodyDeclared)\r\n\r\n"
        // 1 MiB of `1,1,1,…`: the body reads as the start of a huge JSON array.
        let chunk = ByteBuffer(
            bytes: [UInt8](repeating: 0, count: 1 << 20).indices.map { $0 % 2 == 0 ? UInt8(ascii: "1") : UInt8(ascii: ",") })
        let start = nowNanos()
        let sent = try await withThrowingTaskGroup(of: (bytes: Int, error: String?).self) { tasks in
            for connection in connections {
                tasks.addTask {
                    var bytes = 0
                    do {
                        try await connection.write(head + "[")
                        bytes = 1
                        while bytes < sizes.bodyBytes {
                            try await connection.write(chunk.getSlice(at: 0, length: min(chunk.readableBytes, sizes.bodyBytes - bytes))!)
                            bytes += min(chunk.readableBytes, sizes.bodyBytes - bytes)
                        }
                        return (bytes, nil)
                    } catch {
                        return (bytes, "\(error)")
                    }
                }
            }
            return try await tasks.reduce(into: [(bytes: Int, error: String?)]()) { $0.append($1) }
        }
        let stalled = nowNanos()
        let refusedEarly = sent.filter { $0.error != nil }
        await wait(atMost: sizes.hold) { connections.allSatisfy { $0.closedAt != nil } }
        let times = closeTimes(connections)
        let statuses = Set(connections.compactMap(\.statusLine)).sorted()
        var summary =
            "\(sizes.bodyConnections) POSTs announcing \(grouped(sizes.bodyDeclared)) bytes each; \(String(format: "%.0f MB", Double(sent.map(\.bytes).reduce(0, +)) / 1e6)) of body in all sent in \(seconds(since: start, stalled)), then stalled; \(closings(times, after: stalled, event: "the stall", held: sizes.hold))"
        if !refusedEarly.isEmpty {
            summary +=
                "; \(refusedEarly.count) cut off while sending (after \(String(format: "%.0f MB", Double(refusedEarly.map(\.bytes).min() ?? 0) / 1e6))–\(String(format: "%.0f MB", Double(refusedEarly.map(\.bytes).max() ?? 0) / 1e6)))"
        }
        summary += "; answered: " + (statuses.isEmpty ? "nothing" : statuses.joined(separator: ", "))
        return Outcome(summary: summary)
    }

    /// `trickleConnections` requests send their request line, then one header line every
    /// `trickleInterval`, never the blank line; held until the proxy closes them all or `hold`.
    static func trickledHeaders(_ endpoint: Endpoint, sizes: PatternSizes, group: any EventLoopGroup) async throws -> Outcome {
        var connections: [RawConnection] = []
        defer { for connection in connections { connection.close() } }
        for _ in 0..<sizes.trickleConnections {
            connections.append(try await RawConnection.open(host: endpoint.host, port: endpoint.port, group: group))
        }
        let start = nowNanos()
        let deadline = start + UInt64(sizes.hold.nanoseconds)
        var lines = 0
        for connection in connections { try? await connection.write("POST \(endpoint.path) HTTP/1.1\r\n") }
        while nowNanos() < deadline, !connections.allSatisfy({ $0.closedAt != nil }) {
            try await Task.sleep(for: sizes.trickleInterval)
            lines += 1
            for connection in connections where connection.closedAt == nil {
                try? await connection.write("X-Trickle-\(lines): \(lines)\r\n")
            }
        }
        let times = closeTimes(connections)
        let statuses = Set(connections.compactMap(\.statusLine)).sorted()
        return Outcome(
            summary:
                "\(sizes.trickleConnections) requests, one header line every \(Int(sizes.trickleInterval.seconds)) s (\(lines) lines sent); \(closings(times, after: start, event: "the request line", held: sizes.hold)); answered: \(statuses.isEmpty ? "nothing" : statuses.joined(separator: ", "))"
        )
    }
}
