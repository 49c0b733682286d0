// The connection-flood pattern: thousands of TCP connections opened to the proxy and left idle.

import LoadKit
import NIOCore

enum ConnectionFlood {
    /// Opens `idleConnections` connections (64 dialling at a time) that send nothing, holds them
    /// for `hold`, and counts how many the proxy closed at once or within the hold.
    static func run(_ endpoint: Endpoint, sizes: PatternSizes, group: any EventLoopGroup) async throws -> Outcome {
        var connections: [RawConnection] = []
        defer { for connection in connections { connection.close() } }
        var failures = 0
        var firstFailure: String?
        let start = nowNanos()
        await withTaskGroup(of: Result<RawConnection, any Error>.self) { tasks in
            var started = 0
            func dial() {
                started += 1
                tasks.addTask {
                    do {
                        return .success(try await RawConnection.open(host: endpoint.host, port: endpoint.port, group: group))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            while started < min(64, sizes.idleConnections) { dial() }
            for await result in tasks {
                switch result {
                case .success(let connection): connections.append(connection)
                case .failure(let error):
                    failures += 1
                    firstFailure = firstFailure ?? "\(error)"
                }
                if started < sizes.idleConnections { dial() }
            }
        }
        let opened = nowNanos()
        // Give the proxy a moment to close what it refuses, then hold.
        try await Task.sleep(for: sizes.hold)
        let closedBy = connections.compactMap(\.closedAt)
        let atOnce = closedBy.filter { $0 <= opened + 1_000_000_000 }.count
        var summary =
            "\(grouped(sizes.idleConnections)) idle connections dialled in \(seconds(since: start, opened)): \(grouped(connections.count)) accepted by the kernel"
        if failures > 0 { summary += ", \(grouped(failures)) failed (\(firstFailure ?? "?"))" }
        summary +=
            "; closed by the proxy within 1 s of the last dial: \(grouped(atOnce)), by the end of the \(Int(sizes.hold.seconds)) s hold: \(grouped(closedBy.count)); still open: \(grouped(connections.count - closedBy.count))"
        return Outcome(summary: summary)
    }
}
