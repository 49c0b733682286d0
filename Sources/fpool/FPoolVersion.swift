// What `fpool --version` prints: fpool's own version and the Lotus releases its route tables
// were imported from, which is what an operator checks against the daemons it runs.

import GeneratedRoutes

enum FPoolVersion {
    /// fpool's release; raised with each release an operator installs.
    static let release = "0.21.0"

    /// `fpool 0.21.0 (Lotus API tables: v1 from Lotus v1.36.1, v0 from Lotus v1.36.1)`.
    static var description: String {
        "fpool \(Self.release) (Lotus API tables: v1 from Lotus \(RouteTable.lotusRelease(.v1)), v0 from Lotus \(RouteTable.lotusRelease(.v0)))"
    }
}
