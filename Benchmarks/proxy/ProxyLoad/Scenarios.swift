// The scenarios beyond raw load: memory with 1,000 ChainNotify websockets, failover when the
// serving daemon dies, and the ChainNotify gap when a channel's daemon is lost.

import Foundation
import Histogram
import LoadKit
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The processes and addresses of one benchmark run.
struct Setup: Sendable {
    let direct: Endpoint
    let fpool: Endpoint
    let nginx: Endpoint
    /// The SwiftNIO byte tunnel (a reference: the least a SwiftNIO proxy does per call), if run.
    let tunnel: Endpoint?
    let controlPort: Int
    let nodes: Int
    let fpoolPID: Int32
    let nginxPID: Int32
    let simPID: Int32
    let tunnelPID: Int32?

    var nginxPIDs: [Int32] { ProcFS.withChildren(self.nginxPID) }
}

// MARK: - Control endpoints

enum Control {
    /// Calls per node as the pool counts them (FPool.NodeList, admin token).
    static func nodeCalls(_ setup: Setup) async throws -> [Int] {
        let body = #"{"jsonrpc":"2.0","id":1,"method":"FPool.NodeList","params":[]}"#
        let response = try await Connect.request(
            port: setup.fpool.port, method: .POST, path: "/rpc/v1", body: body, token: setup.fpool.token)
        guard let object = response.json() as? [String: Any], let nodes = object["result"] as? [[String: Any]] else {
            throw BenchError("FPool.NodeList: unexpected answer \(response.text.prefix(300))")
        }
        var calls = [Int](repeating: 0, count: setup.nodes)
        for node in nodes {
            if let index = (node["Index"] as? NSNumber)?.intValue, calls.indices.contains(index) {
                calls[index] = (node["Calls"] as? NSNumber)?.intValue ?? 0
            }
        }
        return calls
    }

    /// Available nodes according to fpool's /healthz (nil when it does not answer).
    static func available(_ setup: Setup) async -> Int? {
        guard let response = try? await Connect.request(port: setup.fpool.port, path: "/healthz", timeout: .seconds(2)),
            let object = response.json() as? [String: Any]
        else { return nil }
        return (object["available"] as? NSNumber)?.intValue
    }

    /// Polls /healthz every 20 ms until `predicate` holds; returns when it did (nil on timeout).
    static func waitAvailable(_ setup: Setup, timeout: Duration, _ predicate: (Int) -> Bool) async -> UInt64? {
        let deadline = nowNanos() + UInt64(timeout.nanoseconds)
        while nowNanos() < deadline {
            if let count = await self.available(setup), predicate(count) { return nowNanos() }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    @discardableResult
    static func sim(_ setup: Setup, _ path: String, _ body: String = "{}") async throws -> [String: Any] {
        let response = try await Connect.request(port: setup.controlPort, method: .POST, path: path, body: body)
        guard response.status == 200, let object = response.json() as? [String: Any] else {
            throw BenchError("sim control \(path): HTTP \(response.status) \(response.text.prefix(300))")
        }
        return object
    }

    static func simHeight(_ setup: Setup) async throws -> Int64 {
        let response = try await Connect.request(port: setup.controlPort, path: "/status")
        guard let object = response.json() as? [String: Any], let height = (object["height"] as? NSNumber)?.int64Value else {
            throw BenchError("sim /status: \(response.text.prefix(300))")
        }
        return height
    }

    /// Which node served a burst of `count` calls of `method` through fpool (HTTP, one by one).
    static func servingNode(_ setup: Setup, _ method: RPCMethod, count: Int = 100) async throws -> (node: Int, calls: [Int]) {
        let before = try await self.nodeCalls(setup)
        for id in 1...count {
            _ = try await Connect.request(
                port: setup.fpool.port, method: .POST, path: setup.fpool.path,
                body: String(decoding: method.request(id: id), as: UTF8.self),
                token: setup.fpool.token)
        }
        let after = try await self.nodeCalls(setup)
        let diff = zip(after, before).map { $0 - $1 }
        return (diff.indices.max { diff[$0] < diff[$1] } ?? 0, diff)
    }
}

// MARK: - Memory

struct MemoryResult: Sendable {
    let target: String
    let sockets: Int
    let subscribed: Int
    let openSeconds: Double
    let rssBeforeKiB: Int
    let rssOpenKiB: Int
    let rssAfterCloseKiB: Int
    let processes: Int
    let failures: [String]

    var perSocketKiB: Double { Double(self.rssOpenKiB - self.rssBeforeKiB) / Double(max(1, self.subscribed)) }
}

enum MemoryTest {
    /// Opens `sockets` websockets to `endpoint`, each subscribing to ChainNotify and receiving
    /// its first value; reads the resident memory of `pids()` before, with all open, and after.
    static func run(
        endpoint: Endpoint, sockets: Int, pids: @Sendable () -> [Int32], group: any EventLoopGroup
    ) async throws -> MemoryResult {
        let rssBefore = ProcFS.totalRSS(pids())
        let counter = NotifyHolder.Counter()
        let started = nowNanos()
        var channels: [any Channel] = []
        defer { for channel in channels { channel.close(promise: nil) } }
        var failures: [String] = []
        await withTaskGroup(of: Result<any Channel, any Error>.self) { tasks in
            var opened = 0
            while opened < min(sockets, 32) {
                tasks.addTask { await attempt { try await Self.open(endpoint, counter, group) } }
                opened += 1
            }
            for await result in tasks {
                switch result {
                case .success(let channel): channels.append(channel)
                case .failure(let error): failures.append("\(error)")
                }
                if opened < sockets {
                    tasks.addTask { await attempt { try await Self.open(endpoint, counter, group) } }
                    opened += 1
                }
            }
        }
        if !failures.isEmpty { log("memory \(endpoint.name): \(failures.count) websockets failed to open; first: \(failures[0])") }
        let deadline = nowNanos() + 30_000_000_000
        while counter.values.load(ordering: .relaxed) < channels.count, nowNanos() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let openSeconds = Double(nowNanos() - started) / 1e9
        try await Task.sleep(for: .seconds(1))
        let pidList = pids()
        let rssOpen = ProcFS.totalRSS(pidList)
        let subscribed = counter.values.load(ordering: .relaxed)
        for channel in channels { try? await channel.close() }
        channels = []
        try await Task.sleep(for: .seconds(1))
        return MemoryResult(
            target: endpoint.name, sockets: sockets, subscribed: subscribed, openSeconds: openSeconds, rssBeforeKiB: rssBefore,
            rssOpenKiB: rssOpen, rssAfterCloseKiB: ProcFS.totalRSS(pids()), processes: pidList.count, failures: failures)
    }

    private static func open(_ endpoint: Endpoint, _ counter: NotifyHolder.Counter, _ group: any EventLoopGroup) async throws
        -> any Channel
    {
        let channel = try await Connect.webSocket(endpoint, group: group) { channel in
            try channel.pipeline.syncOperations.addHandler(NotifyHolder(counter: counter))
        }
        channel.pipeline.fireUserInboundEventTriggered(Go(measureStart: 0, measureEnd: 0))
        return channel
    }
}

// MARK: - Failover

struct CallRecord: Sendable {
    let start: UInt64
    let end: UInt64
    let error: String?
    var ok: Bool { self.error == nil }
}

struct FailoverResult: Sendable {
    struct PerMethod: Sendable {
        let method: String
        let servedBy: Int
        let calls: Int
        let failed: Int
        let firstError: String?
        /// Kill sent → first successful answer that completed after the daemon was down.
        let failoverNanos: UInt64?
        /// The slowest call in flight at the kill or started until the pool noticed, + 1 s.
        let worstNanos: UInt64
        let p50Before: UInt64
        let p50Between: UInt64?
        let callsBetween: Int
        /// The longest time one connection waited between two successful answers across the kill.
        let longestGapNanos: UInt64
    }

    let killed: Int
    let killTookNanos: UInt64
    /// Kill sent → /healthz reports one node fewer (the heartbeat noticed).
    let noticedNanos: UInt64?
    let methods: [PerMethod]
}

/// When the failover clients stop (monotonic ns).
final class StopTime: Sendable {
    let value = Atomic<UInt64>(.max)
}

enum FailoverTest {
    static func run(setup: Setup, connectionsPerMethod: Int) async throws -> FailoverResult {
        guard await Control.waitAvailable(setup, timeout: .seconds(20), { $0 == setup.nodes }) != nil else {
            throw BenchError("failover: fpool does not report all \(setup.nodes) nodes available")
        }
        let methods = [RPCMethod.stateGetActor, RPCMethod.chainHead]
        var servedBy: [Int] = []
        for method in methods {
            let serving = try await Control.servingNode(setup, method)
            log("failover: \(method.label) served by node \(serving.node) (calls per node \(serving.calls))")
            servedBy.append(serving.node)
        }
        let victim = servedBy[0]  // StateGetActor's node: OneBySeedRound, PrimarySeed 0 → node 0
        let stop = StopTime()
        var clients: [(Int, RPCWebSocket)] = []
        for (index, _) in methods.enumerated() {
            for _ in 0..<connectionsPerMethod { clients.append((index, try await RPCWebSocket.connect(setup.fpool))) }
        }
        defer { for (_, client) in clients { Task { await client.close() } } }
        let (records, killSent, killDone, noticed) = try await withThrowingTaskGroup(of: (Int, [CallRecord]).self) { tasks in
            for (index, client) in clients {
                let method = methods[index]
                tasks.addTask {
                    var records: [CallRecord] = []
                    let hardStop = nowNanos() + 40_000_000_000
                    while nowNanos() < min(stop.value.load(ordering: .relaxed), hardStop), records.count < 2_000_000 {
                        let start = nowNanos()
                        var error: String?
                        do {
                            let frame = try await client.call(method, timeout: .seconds(15))
                            error = frame.error
                        } catch let failure {
                            error = "\(failure)"
                        }
                        records.append(CallRecord(start: start, end: nowNanos(), error: error))
                    }
                    return (index, records)
                }
            }
            try await Task.sleep(for: .milliseconds(1500))
            let killSent = nowNanos()
            try await Control.sim(setup, "/daemons/\(victim)/kill")
            let killDone = nowNanos()
            let noticed = await Control.waitAvailable(setup, timeout: .seconds(15)) { $0 < setup.nodes }
            try await Task.sleep(for: .seconds(1))
            stop.value.store(nowNanos(), ordering: .relaxed)
            var records: [(Int, [CallRecord])] = []
            for try await result in tasks { records.append(result) }
            return (records, killSent, killDone, noticed)
        }
        let betweenEnd = noticed ?? killDone + 3_000_000_000
        let perMethod = methods.indices.map { index -> FailoverResult.PerMethod in
            let connections = records.filter { $0.0 == index }.map(\.1)
            // The longest wait one connection had between two answers, across the kill.
            let gap =
                connections.map { list -> UInt64 in
                    let ends = list.filter(\.ok).map(\.end).filter { $0 >= killSent - 500_000_000 }
                    var widest: UInt64 = 0
                    for (previous, next) in zip(ends, ends.dropFirst()) where next >= killSent { widest = max(widest, next - previous) }
                    return widest
                }.max() ?? 0
            let list = connections.flatMap { $0 }.sorted { $0.end < $1.end }
            let failoverEnd = list.first { $0.ok && $0.end > killDone }?.end
            let worst = list.filter { $0.end >= killSent && $0.start <= betweenEnd + 1_000_000_000 }.map { $0.end - $0.start }.max() ?? 0
            func p50(_ records: [CallRecord]) -> UInt64? {
                let latencies = records.filter(\.ok).map { $0.end - $0.start }.sorted()
                return latencies.isEmpty ? nil : latencies[latencies.count / 2]
            }
            let before = list.filter { $0.end < killSent && $0.start >= killSent - 1_000_000_000 }
            let between = list.filter { $0.start >= killDone && $0.end <= betweenEnd }
            return FailoverResult.PerMethod(
                method: methods[index].label, servedBy: servedBy[index], calls: list.count, failed: list.filter { !$0.ok }.count,
                firstError: list.first { !$0.ok }?.error, failoverNanos: failoverEnd.map { $0 - killSent }, worstNanos: worst,
                p50Before: p50(before) ?? 0, p50Between: p50(between), callsBetween: between.count, longestGapNanos: gap)
        }
        return FailoverResult(
            killed: victim, killTookNanos: killDone - killSent, noticedNanos: noticed.map { $0 - killSent }, methods: perMethod)
    }
}

// MARK: - Channel gap

struct GapResult: Sendable {
    let servingNode: Int
    let advances: Int
    let intervalMs: Int
    let firstHeight: Int64
    let lastHeight: Int64
    let missed: [Int64]
    let duplicates: [Int64]
    let resubscribes: Int
    /// Kill sent → the client saw its channel close.
    let closeAfterKillNanos: UInt64?
    /// Channel closed → the new channel's first value.
    let resubscribeNanos: UInt64?
    let errors: [String]
}

enum ChannelGapTest {
    static func run(setup: Setup, advances: Int = 30, interval: Duration = .milliseconds(100), killAt: Int = 10) async throws
        -> GapResult
    {
        guard await Control.waitAvailable(setup, timeout: .seconds(20), { $0 == setup.nodes }) != nil else {
            throw BenchError("channel gap: fpool does not report all \(setup.nodes) nodes available")
        }
        let client = try await RPCWebSocket.connect(setup.fpool)
        let before = try await Control.nodeCalls(setup)
        let first = try await client.call(.chainNotify)
        guard first.error == nil, var channel = (first.result as? NSNumber)?.intValue else {
            throw BenchError("ChainNotify through fpool: \(first.error ?? "no channel id")")
        }
        let after = try await Control.nodeCalls(setup)
        let diff = zip(after, before).map { $0 - $1 }
        let serving = diff.indices.max { diff[$0] < diff[$1] } ?? 0
        log("channel gap: ChainNotify opened on node \(serving) (calls per node \(diff)); killing it after \(killAt) advances")

        let killTimes = Mutex<(sent: UInt64, done: UInt64)?>(nil)
        let driver = Task { () -> [String] in
            var errors: [String] = []
            for step in 0..<advances {
                try? await Task.sleep(for: interval)
                do {
                    try await Control.sim(setup, "/advance", #"{"count":1}"#)
                    if step + 1 == killAt {
                        let sent = nowNanos()
                        try await Control.sim(setup, "/daemons/\(serving)/kill")
                        killTimes.withLock { $0 = (sent, nowNanos()) }
                    }
                } catch {
                    errors.append("\(error)")
                }
            }
            try? await Task.sleep(for: .milliseconds(700))
            await client.close()
            return errors
        }

        var seen: [Int64: Int] = [:]
        var errors: [String] = []
        var resubscribes = 0
        var closedAt: UInt64?
        var resubscribedFirstValue: UInt64?
        var awaitingFirstValue = false
        eventLoop: for await event in client.events {
            switch event {
            case .value(let id, let frame) where id == channel:
                if awaitingFirstValue {
                    awaitingFirstValue = false
                    resubscribedFirstValue = frame.receivedAt
                }
                let changes = frame.params.dropFirst().first as? [[String: Any]] ?? []
                for change in changes {
                    if let value = change["Val"] as? [String: Any], let height = (value["Height"] as? NSNumber)?.int64Value {
                        seen[height, default: 0] += 1
                    }
                }
            case .closed(let id, let at) where id == channel:
                if closedAt == nil { closedAt = at }
                // Subscribe again at once, as lotus-miner does; bounded retries.
                var reopened = false
                for _ in 0..<50 {
                    do {
                        let answer = try await client.call(.chainNotify)
                        if let error = answer.error {
                            errors.append("re-subscribe: \(error)")
                        } else if let id = (answer.result as? NSNumber)?.intValue {
                            channel = id
                            reopened = true
                            break
                        }
                    } catch {
                        errors.append("re-subscribe: \(error)")
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                guard reopened else { break eventLoop }
                resubscribes += 1
                awaitingFirstValue = true
            case .connectionClosed:
                break eventLoop
            default:
                break
            }
        }
        errors += await driver.value
        let lastHeight = try await Control.simHeight(setup)
        let firstHeight = seen.keys.min() ?? 0
        let missed = firstHeight <= lastHeight ? (firstHeight...lastHeight).filter { seen[$0] == nil } : []
        let duplicates = seen.filter { $0.value > 1 }.map(\.key).sorted()
        let kill = killTimes.withLock { $0 }
        let result = GapResult(
            servingNode: serving, advances: advances, intervalMs: Int(interval.nanoseconds / 1_000_000), firstHeight: firstHeight,
            lastHeight: lastHeight, missed: missed, duplicates: duplicates, resubscribes: resubscribes,
            closeAfterKillNanos: both(kill, closedAt).map { $1 > $0.sent ? $1 - $0.sent : 0 },
            resubscribeNanos: both(closedAt, resubscribedFirstValue).map { $1 - $0 }, errors: errors)
        // Bring the daemon back for what follows, and wait until the pool uses it again.
        try await Control.sim(setup, "/daemons/\(serving)/start")
        if await Control.waitAvailable(setup, timeout: .seconds(20), { $0 == setup.nodes }) == nil {
            log("channel gap: node \(serving) not available again within 20 s")
        }
        return result
    }
}

private func both<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

func attempt<T: Sendable>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
