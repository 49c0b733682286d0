// Small shared pieces: the monotonic clock, endpoints, the calls under test, /proc readings.

import Foundation
import Histogram
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Monotonic nanoseconds (vDSO clock_gettime: tens of nanoseconds, no allocation).
@inline(__always) package func nowNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

extension Duration {
    package var nanoseconds: Int64 { self.components.seconds * 1_000_000_000 + self.components.attoseconds / 1_000_000_000 }
    package var seconds: Double { Double(self.nanoseconds) / 1e9 }
}

/// Where calls go: `direct` (a simulated daemon), `fpool` or `nginx`.
package struct Endpoint: Sendable {
    package let name: String
    package let host: String
    package let port: Int
    package let path: String
    package let token: String?

    package init(name: String, host: String, port: Int, path: String, token: String?) {
        self.name = name
        self.host = host
        self.port = port
        self.path = path
        self.token = token
    }

    package var hostHeader: String { "\(self.host):\(self.port)" }
}

package enum Transport: String, Sendable, CaseIterable {
    case ws
    case http
}

/// One JSON-RPC method with its params, as raw JSON.
package struct RPCMethod: Sendable {
    package let label: String
    package let method: String
    package let params: String
    /// Each connection spells the params its own way (whitespace after `[`): no two calls in
    /// flight are identical, so a proxy can neither coalesce nor cache them.
    package let distinctPerConnection: Bool

    package init(label: String, method: String, params: String, distinctPerConnection: Bool = false) {
        self.label = label
        self.method = method
        self.params = params
        self.distinctPerConnection = distinctPerConnection
    }

    /// The method as connection `index` sends it.
    package func forConnection(_ index: Int) -> RPCMethod {
        guard self.distinctPerConnection, self.params.hasPrefix("[") else { return self }
        let spelled = "[" + String(repeating: " ", count: index) + self.params.dropFirst()
        return RPCMethod(label: self.label, method: self.method, params: spelled)
    }

    package static let chainHead = RPCMethod(label: "ChainHead", method: "Filecoin.ChainHead", params: "[]")
    package static let stateGetActor = RPCMethod(label: "StateGetActor", method: "Filecoin.StateGetActor", params: #"["f01000",[]]"#)
    package static let chainNotify = RPCMethod(label: "ChainNotify", method: "Filecoin.ChainNotify", params: "[]")

    /// `{"jsonrpc":"2.0","method":"…","params":…,"id":` — the id and `}` follow.
    package var requestPrefix: [UInt8] { Array(#"{"jsonrpc":"2.0","method":"\#(self.method)","params":\#(self.params),"id":"#.utf8) }

    package func request(id: Int) -> [UInt8] { self.requestPrefix + Array("\(id)}".utf8) }
}

package struct BenchError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// The latency histogram used everywhere: nanoseconds, 3 significant digits, up to 2 minutes.
package func makeHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 10, highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
}

/// `"error"`
private let errorMarker = Array(#""error""#.utf8)

extension ByteBuffer {
    /// Whether the readable bytes contain `"error"` (a JSON-RPC error answer; no result of the
    /// calls benchmarked contains that text).
    package func containsErrorMember() -> Bool {
        self.withUnsafeReadableBytes { raw in
            let count = errorMarker.count
            guard raw.count >= count else { return false }
            var index = 0
            let last = raw.count - count
            while index <= last {
                if raw[index] == 0x22, raw[index + 1] == 0x65, raw[index + 2] == 0x72, raw[index + 3] == 0x72,
                    raw[index + 4] == 0x6F, raw[index + 5] == 0x72, raw[index + 6] == 0x22
                {
                    return true
                }
                index += 1
            }
            return false
        }
    }
}

// MARK: - /proc

package enum ProcFS {
    /// `VmRSS` (or another `Vm*` line) of a process, in KiB.
    package static func vm(_ pid: Int32, _ field: String = "VmRSS") -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// User + system CPU time of a process, in seconds.
    package static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command: state(3) ppid(4) … utime(14) stime(15).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The process and its direct children (nginx's master and workers).
    package static func withChildren(_ pid: Int32) -> [Int32] {
        var pids = [pid]
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return pids }
        for entry in entries {
            guard let child = Int32(entry), child != pid,
                let text = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                let close = text.lastIndex(of: ")")
            else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == pid { pids.append(child) }
        }
        return pids
    }

    /// CPU seconds the whole machine spent busy (all cores; /proc/stat's first line less idle and iowait).
    package static func machineBusySeconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return 0 }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return 0 }
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    package static func totalCPU(_ pids: [Int32]) -> Double { pids.compactMap(cpuSeconds).reduce(0, +) }
    package static func totalRSS(_ pids: [Int32]) -> Int { pids.compactMap { vm($0) }.reduce(0, +) }
}

// MARK: - Formatting

package func formatMicros(_ nanos: UInt64) -> String { formatMicros(Double(nanos)) }

package func formatMicros(_ nanos: Double) -> String {
    let micros = nanos / 1000
    if micros >= 10_000 { return String(format: "%.1f ms", micros / 1000) }
    if micros >= 1000 { return String(format: "%.2f ms", micros / 1000) }
    if micros >= 100 { return String(format: "%.0f µs", micros) }
    return String(format: "%.1f µs", micros)
}

package func formatRate(_ rate: Double) -> String {
    rate >= 1000 ? String(format: "%.1fk", rate / 1000) : String(format: "%.0f", rate)
}

package func formatMiB(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1024) }

package func log(_ text: String) {
    FileHandle.standardError.write(Data(("[proxyload] " + text + "\n").utf8))
}
