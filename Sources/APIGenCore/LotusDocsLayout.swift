// Where a Lotus release keeps its API documents: the OpenRPC file and, per API version, the
// methods markdown, whose names changed over the releases (`api-v1-unstable-methods.md` in
// v1.15, `api-methods-v1-stable.md` later; the same for v0).

import RouteModel

/// The file names `apigen bump` looks for in a Lotus release's documentation folder, covering every
/// layout from v1.15 on so one command imports old and new releases alike.
public enum LotusDocsLayout {
    /// The OpenRPC document `apigen bump` reads (FullNode; v0's methods are imported from the
    /// same document and their own markdown).
    public static let openRPC = "full.json"

    /// Methods markdown names, newest layout first.
    public static func markdownNames(for api: APIVersion) -> [String] {
        switch api {
        case .v1: ["api-methods-v1-stable.md", "api-v1-unstable-methods.md"]
        case .v0: ["api-methods-v0-deprecated.md", "api-methods-v0.md", "api-v0-methods.md"]
        }
    }

    /// The methods markdown for `api` among a directory's file names, or nil.
    public static func markdown(for api: APIVersion, in files: Set<String>) -> String? {
        Self.markdownNames(for: api).first { files.contains($0) }
    }
}
