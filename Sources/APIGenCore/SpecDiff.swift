// What a Lotus bump changes between two specs, as a short report for review.

import RouteModel

/// The methods added, removed and changed between two specs of the same API version.
///
/// "Removed" covers both a method that disappeared and one the newer spec keeps only for
/// older clients (`removed=`), since either way current daemons no longer serve it.
public struct SpecDiff: Sendable {
    public struct Change: Sendable, Hashable {
        public let name: String
        /// e.g. `params (Cid) → (TipSetKey,Cid,Other,Other)`.
        public let details: [String]
    }

    public let added: [RouteEntry]
    public let removed: [RouteEntry]
    public let changed: [Change]

    public init(old: SpecDocument, new: SpecDocument) {
        let live = { (document: SpecDocument) -> [String: RouteEntry] in
            Dictionary(document.methods.filter { $0.entry.removedIn == nil }.map { ($0.name, $0.entry) }, uniquingKeysWith: { a, _ in a })
        }
        let oldLive = live(old)
        let newLive = live(new)
        self.added = newLive.values.filter { oldLive[$0.name] == nil }.sorted { $0.name < $1.name }
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

    public var isEmpty: Bool { self.added.isEmpty && self.removed.isEmpty && self.changed.isEmpty }

    /// The human-readable report.
    public func report(oldLabel: String, newLabel: String) -> String {
        var out = "\(oldLabel) → \(newLabel): \(self.added.count) added, \(self.removed.count) removed, \(self.changed.count) changed\n"
        if !self.added.isEmpty {
            out += "\nAdded:\n"
            for entry in self.added { out += "  + \(entry.name) \(entry.params) perm=\(entry.perm.rawValue)\n" }
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
