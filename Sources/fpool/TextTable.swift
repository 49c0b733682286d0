// Left-aligned text columns, like Go's tabwriter output in the seed's listings.

enum TextTable {
    /// Pads every column but the last to its widest cell plus two spaces.
    static func render(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                line += index == row.count - 1 ? cell : cell.padding(to: widths[index] + 2)
            }
            out += line + "\n"
        }
        return out
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - self.count))
    }
}
