// One frame of `fpool top`, made from two `FPool.Top` snapshots: rates are the difference
// between them over the time between them. Pure, so its text is tested without a terminal.

import Foundation
import LotusWire

struct TopScreen {
    /// How many methods the frame lists, busiest first.
    static let methodRows = 8

    /// The frame's lines. `previous` nil (the first frame) shows totals' rates as zero.
    static func render(
        _ now: JSON, previous: JSON?, seconds: Double, at time: Date = Date(), interval: String, inTerminal: Bool = false
    ) -> String {
        let degraded = now["Degraded"]?.bool ?? false
        let nodes = now["Nodes"]?.array ?? []
        let serving = now["Serving"]?.int ?? 0
        var out = "fpool top: pool \(degraded ? "DEGRADED" : "healthy"), \(serving) of \(nodes.count) nodes serving"
        if let network = now["Network"]?.string { out += ", network \(network)" }
        out += "    \(Self.clock(time)), every \(interval)\(inTerminal ? "; q quits" : "")\n"
        if degraded, let detail = now["Detail"]?.string, !detail.isEmpty { out += "  \(detail)\n" }
        out += "\n"
        var before: [String: JSON] = [:]
        for node in previous?["Nodes"]?.array ?? [] {
            if let name = node["Name"]?.string { before[name] = node }
        }
        var rows = [["NODE", "HEAD", "BEHIND", "PEERS M/B", "CALLS/S", "ERRORS/S", "RETRIES", "CHANNELS", "SENDERS", "STATE"]]
        for node in nodes {
            let name = node["Name"]?.string ?? "?"
            let old = before[name]
            func number(_ key: String) -> String { node[key]?.int.map(String.init) ?? "-" }
            let peers = number("MessagePeers") + "/" + number("BlockPeers")
            let calls = Self.rate(node["Calls"], old?["Calls"], seconds)
            let errors = Self.rate(node["Errors"], old?["Errors"], seconds)
            let fallback = node["Available"]?.bool == false && node["Serving"]?.bool == true
            let state = (node["State"]?.string ?? "?") + (fallback ? " (serving: degraded)" : "")
            let row: [String] = [
                name, number("Head"), number("Behind"), peers, calls, errors, number("Retries"), number("Channels"), number("BoundSeeds"),
                state,
            ]
            rows.append(row)
        }
        out += TextTable.render(rows)
        out += "\n"
        let methods = Self.busiest(now, previous: previous, seconds: seconds)
        var methodRows = [["BUSIEST METHODS", "CALLS/S", "ERRORS/S"]]
        for method in methods.prefix(Self.methodRows) {
            methodRows.append([method.name, Self.format(method.calls), Self.format(method.errors)])
        }
        if methods.isEmpty { methodRows.append(["(no calls since the last frame)", "", ""]) }
        out += TextTable.render(methodRows)
        return out
    }

    /// Methods called since the previous frame, busiest first: name, calls and errors per second.
    static func busiest(_ now: JSON, previous: JSON?, seconds: Double) -> [(name: String, calls: Double, errors: Double)] {
        var before: [String: JSON] = [:]
        for method in previous?["Methods"]?.array ?? [] {
            if let name = method["Method"]?.string { before[name] = method }
        }
        var methods: [(name: String, calls: Double, errors: Double)] = []
        for method in now["Methods"]?.array ?? [] {
            let name = method["Method"]?.string ?? "?"
            let calls = Self.perSecond(method["Calls"], before[name]?["Calls"], seconds)
            let errors = Self.perSecond(method["Errors"], before[name]?["Errors"], seconds)
            if calls > 0 { methods.append((name, calls, errors)) }
        }
        return methods.sorted { $0.calls != $1.calls ? $0.calls > $1.calls : $0.name < $1.name }
    }

    /// A total's growth per second; a total the previous frame did not have (a method first
    /// called, a node just added) grew from zero. The first frame (`seconds` 0) shows none.
    static func perSecond(_ now: JSON?, _ before: JSON?, _ seconds: Double) -> Double {
        guard let now = now?.int, seconds > 0 else { return 0 }
        let before = before?.int ?? 0
        return now >= before ? Double(now - before) / seconds : 0
    }

    static func rate(_ now: JSON?, _ before: JSON?, _ seconds: Double) -> String {
        Self.format(Self.perSecond(now, before, seconds))
    }

    static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }

    static func clock(_ time: Date) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: time)
    }
}
