// Prints a SpecDocument in the canonical api-spec layout: one aligned line per method.

import RouteModel

/// Renders specs so that a Lotus bump shows up as a line-by-line diff: one method per line,
/// sorted by name, fixed-width columns for the short fields, params and seed last.
public struct SpecWriter: Sendable {
    /// A writer; it holds no state.
    public init() {}

    /// The spec file's text: header comments, the `api` and `lotus` lines, then every method sorted by
    /// name below its comments, with a blank line before the first method and around each commented one.
    /// `SpecParser` reads it back to the same header, comments and entries, in name order.
    public func render(_ document: SpecDocument) -> String {
        var out = ""
        for comment in document.headerComments {
            out += commentLine(comment)
        }
        if !document.headerComments.isEmpty { out += "\n" }
        out += "api \(document.api.rawValue)\n"
        out += "lotus \(document.lotusRelease)\n"
        var previousHadComments = true
        for method in document.methods.sorted(by: { $0.name < $1.name }) {
            if !method.comments.isEmpty || previousHadComments { out += "\n" }
            for comment in method.comments {
                out += commentLine(comment)
            }
            out += self.line(for: method.entry, added: method.addedIn) + "\n"
            previousHadComments = !method.comments.isEmpty
        }
        return out
    }

    /// One method line, e.g.
    /// `StateGetActor   cat=state  perm=read  effect=read  result=plain  policy=default …`.
    public func line(for entry: RouteEntry, added: String? = nil) -> String {
        var columns: [(String, Int)] = [
            (entry.name, 40),
            ("cat=\(entry.category.rawValue)", 15),
            ("perm=\(entry.perm.rawValue)", 11),
            ("effect=\(entry.effect.rawValue)", 13),
            ("result=\(entry.result.rawValue)", 15),
            ("policy=\(entry.policy)", 29),
            ("filter=\(entry.filter.rawValue)", 15),
            ("nohang=\(entry.nohang)", 13),
            ("timeout=\(entry.timeout)", 14),
            ("params=\(entry.params)", 0),
        ]
        if let seed = entry.seed { columns.append(("seed=\(seed)", 0)) }
        if entry.cache != .none { columns.append(("cache=\(entry.cache.rawValue)", 0)) }
        if let added { columns.append(("added=\(added)", 0)) }
        if let removed = entry.removedIn { columns.append(("removed=\(removed)", 0)) }
        var text = ""
        for (index, (word, width)) in columns.enumerated() {
            text += word
            if index < columns.count - 1 {
                text += String(repeating: " ", count: max(1, width - word.count))
            }
        }
        return text
    }

    private func commentLine(_ comment: String) -> String {
        comment.isEmpty ? "#\n" : "# \(comment)\n"
    }
}
