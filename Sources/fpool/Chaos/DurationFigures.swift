// Durations as the chaos report prints and compares them.

extension Duration {
    /// Whole milliseconds (rounded down).
    var milliseconds: Int64 {
        self.components.seconds * 1_000 + self.components.attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a floating-point number, for reports.
    var seconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18
    }

    /// "850 ms" below 10 s, else "12.3 s".
    var figure: String {
        let milliseconds = self.milliseconds
        if milliseconds < 10_000 { return "\(milliseconds) ms" }
        return "\((self.seconds * 10).rounded() / 10) s"
    }
}
