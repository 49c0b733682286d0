// The parsed form of one api-spec file: its header and one route entry per method.

import RouteModel

/// One method line of a spec, with the comments written above it.
public struct SpecMethod: Sendable, Hashable {
    /// The method's routing fields, as the generated table will carry them.
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

    /// A method with its comments (without `# `), the line it was read from (0 when built in memory), and
    /// the release that first served it when known.
    public init(entry: RouteEntry, comments: [String] = [], line: Int = 0, addedIn: String? = nil) {
        self.entry = entry
        self.comments = comments
        self.line = line
        self.addedIn = addedIn
    }

    /// The method's name, without the `Filecoin.` prefix.
    public var name: String { self.entry.name }
}

/// A whole spec: which API version it describes, the Lotus release it was last imported from,
/// and its methods in file order.
public struct SpecDocument: Sendable, Hashable {
    /// The API version the spec describes (`api v1`); at most one spec per version is generated.
    public var api: APIVersion
    /// e.g. `v1.36.1`.
    public var lotusRelease: String
    /// The comment block at the top of the file.
    public var headerComments: [String]
    /// The methods in file order; the renderer numbers the generated enum's cases in this order, while
    /// `SpecWriter` prints them sorted by name.
    public var methods: [SpecMethod]

    /// A spec from its parts; nothing is validated here (`SpecParser` validates spec text).
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
