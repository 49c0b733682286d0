// The checks on one ChainNotify channel's values: `current` first, then each applied tipset
// on top of the one before (no tipset skipped), and nothing from another chain.

import LotusWire

struct ChannelReading: Sendable {
    /// The key of the head the channel last reported.
    private var head: [String]?
    private(set) var sawValue = false

    /// Reads one change; returns whether it skipped a tipset, and what is wrong with it.
    mutating func read(_ change: JSON, networkHeight: Int64) -> (gap: Bool, wrong: String?) {
        let type = change["Type"]?.string ?? ""
        let tipset = change["Val"] ?? .null
        defer { self.sawValue = true }
        guard let height = tipset.tipSetHeight else { return (false, "a \(type) change without a tipset") }
        if height > networkHeight { return (false, "a tipset at \(height), beyond the network's \(networkHeight): another chain's") }
        if !self.sawValue && type != "current" { return (false, "first change is \(type), not current") }
        switch type {
        case "current":
            if self.sawValue { return (false, "a second current change") }
            self.head = tipset.tipSetCIDs
            return (false, nil)
        case "apply":
            let gap = self.head.map { $0 != tipset.tipSetParents } ?? false
            self.head = tipset.tipSetCIDs
            return (gap, nil)
        case "revert":
            self.head = tipset.tipSetParents
            return (false, nil)
        default:
            return (false, "unknown change type '\(type)'")
        }
    }
}
