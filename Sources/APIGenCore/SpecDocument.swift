// The parsed form of one api-spec file: its header and one route entry per method.

import RouteModel

/// One method line of a spec, with the comments written above it.
public struct SpecMethod: Sendable, Hashable {
    public var entry: RouteEntry
    /// Comment lines (without the leading `# `) directly above the method: the reasoning
    /// behind its hand-tuned fields. They survive a re-import.
    public var comments: [String]
    /// Where the method was read from (0 for methods built in memory, e.g. by the importer).
    public var line: Int
    /// The Lotus release that first served it, when an import onto a base spec saw it arrive
    /// (`added=`); nil for methods of the first release imported. Spec metadata only: routing
    /// does not use it.
    public var addedIn: String?

    public init(entry: RouteEntry, comments: [String] = [], line: Int = 0, addedIn: String? = nil) {
        self.entry = entry
        self.comments = comments
        self.line = line
        self.addedIn = addedIn
    }

    public var name: String { self.entry.name }
}

/// A whole spec: which API version it describes, the Lotus release it was last imported from,
/// and its methods in file order.
public struct SpecDocument: Sendable, Hashable {
    public var api: APIVersion
    /// e.g. `v1.36.1`.
    public var lotusRelease: String
    /// The comment block at the top of the file.
    public var headerComments: [String]
    public var methods: [SpecMethod]

    public init(api: APIVersion, lotusRelease: String, headerComments: [String] = [], methods: [SpecMethod]) {
        self.api = api
        self.lotusRelease = lotusRelease
        self.headerComments = headerComments
        self.methods = methods
    }

    /// The method named `name`, if the spec has it.
    public func method(named name: String) -> SpecMethod? {
        self.methods.first { $0.name == name }
    }
}
