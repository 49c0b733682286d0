// The few facts of a Lotus tipset's JSON the chaos workers check.

import LotusWire

extension JSON {
    /// A tipset's height.
    var tipSetHeight: Int64? { self["Height"]?.int }

    /// A tipset's key: its block CIDs.
    var tipSetCIDs: [String] { self["Cids"]?.array?.compactMap { $0["/"]?.string } ?? [] }

    /// The key of the tipset's parent (every block of a tipset has the same parents).
    var tipSetParents: [String] { self["Blocks"]?[0]?["Parents"]?.array?.compactMap { $0["/"]?.string } ?? [] }
}
