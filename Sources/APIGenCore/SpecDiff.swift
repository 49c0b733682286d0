// What a Lotus bump changes between two specs, as a short report for review.

import Foundation
import RouteModel

/// The methods added, removed and changed between two specs of the same API version, read
/// with the specs' history.
///
/// "Removed" covers both a method that disappeared and one the newer spec keeps only for
/// older clients (`removed=`), since either way current daemons no longer serve it. A method
/// the older spec already marks removed is not removed again when the newer one lacks it, and
/// one it marks removed that the newer release serves again is "present again", not added (the
/// shipped spec keeps the Client* family that a release in between still served).
public struct SpecDiff: Sendable {
    /// A method both specs serve whose params, perm, result or effect differ. Hand-tuned fields (policy,
    /// filter, nohang, timeout, seed) are not compared: an import carries them over from the base spec.
    public struct Change: Sendable, Hashable {
        /// The method's name, without the `Filecoin.` prefix.
        public let name: String
        /// e.g. `params (Cid) → (TipSetKey,Cid,Other,Other)`.
        public let details: [String]
    }

    /// Served by the newer spec and absent from the older one altogether, sorted by name.
    public let added: [RouteEntry]
    /// Marked removed in the older spec, served again by the newer.
    public let presentAgain: [RouteEntry]
    /// Served by the older spec and not by the newer one (absent, or kept only with `removed=`), sorted by name.
    public let removed: [RouteEntry]
    /// Methods served by both whose routing-relevant fields differ, sorted by name.
    public let changed: [Change]

    /// Compares `old` with `new`. Nothing checks that both describe the same API version; the caller does.
    public init(old: SpecDocument, new: SpecDocument) {
        let entries = { (document: SpecDocument) -> [String: RouteEntry] in
            Dictionary(document.methods.map { ($0.name, $0.entry) }, uniquingKeysWith: { a, _ in a })
        }
        let oldAll = entries(old)
        let oldLive = oldAll.filter { $0.value.removedIn == nil }
        let newLive = entries(new).filter { $0.value.removedIn == nil }
        self.added = newLive.values.filter { oldAll[$0.name] == nil }.sorted { $0.name < $1.name }
        self.presentAgain = newLive.values.filter { oldAll[$0.name]?.removedIn != nil }.sorted { $0.name < $1.name }
        self.removed = oldLive.values.filter { newLive[$0.name] == nil }.sorted { $0.name < $1.name }
        self.changed = oldLive.keys.sorted().compactMap { name -> Change? in
            guard let before = oldLive[name], let after = newLive[name] else { return nil }
            var details: [String] = []
            if before.params != after.params { details.append("params \(before.params) → \(after.params)") }
            if before.perm != after.perm { details.append("perm \(before.perm.rawValue) → \(after.perm.rawValue)") }
            if before.result != after.result { details.append("result \(before.result.rawValue) → \(after.result.rawValue)") }
            if before.effect != after.effect { details.append("effect \(before.effect.rawValue) → \(after.effect.rawValue)") }
            return details.isEmpty ? nil : Change(name: name, details: details)
        }
    }

    /// True when there is nothing to report: no method added, present again, removed or changed.
    public var isEmpty: Bool { self.added.isEmpty && self.presentAgain.isEmpty && self.removed.isEmpty && self.changed.isEmpty }

    /// The human-readable report.
    public func report(oldLabel: String, newLabel: String) -> String {
        var out = "\(oldLabel) → \(newLabel): \(self.added.count) added, "
        if !self.presentAgain.isEmpty { out += "\(self.presentAgain.count) present again, " }
        out += "\(self.removed.count) removed, \(self.changed.count) changed\n"
        if !self.added.isEmpty {
            out += "\nAdded:\n"
            for entry in self.added { out += "  + \(entry.name) \(entry.params) perm=\(entry.perm.rawValue)\n" }
        }
        if !self.presentAgain.isEmpty {
            out += "\nPresent again (marked removed in the older spec):\n"
            for entry in self.presentAgain { out += "  = \(entry.name) \(entry.params) perm=\(entry.perm.rawValue)\n" }
        }
        if !self.removed.isEmpty {
            out += "\nRemoved:\n"
            for entry in self.removed { out += "  - \(entry.name) \(entry.params)\n" }
        }
        if !self.changed.isEmpty {
            out += "\nChanged:\n"
            for change in self.changed { out += "  ~ \(change.name): \(change.details.joined(separator: "; "))\n" }
        }
        return out
    }
}

extension SpecDiff {
    /// One method in the machine-readable report.
    struct MethodJSON: Encodable {
        let name: String
        let params: String
        let perm: String
    }

    struct ReportJSON: Encodable {
        let old: String
        let new: String
        let added: [MethodJSON]
        let presentAgain: [MethodJSON]
        let removed: [MethodJSON]
        let changed: [[String: String]]
    }

    /// The same report as JSON (`apigen diff --json`), keys sorted, for scripts and CI.
    public func json(oldLabel: String, newLabel: String) -> String {
        let method = { (entry: RouteEntry) in MethodJSON(name: entry.name, params: "\(entry.params)", perm: entry.perm.rawValue) }
        let report = ReportJSON(
            old: oldLabel, new: newLabel, added: self.added.map(method), presentAgain: self.presentAgain.map(method),
            removed: self.removed.map(method),
            changed: self.changed.map { ["name": $0.name, "details": $0.details.joined(separator: "; ")] })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(report)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }
}
