// Timeouts written the way Lotus and the seed write them: Go durations such as 0s, 30s, 1m30s.

/// A non-negative duration in whole milliseconds, parsed from and printed as a Go duration.
public struct GoDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in whole milliseconds; a `UInt32` holds up to about 49.7 days.
    public let milliseconds: UInt32

    /// No time at all, printed `0s`; as a route timeout it means "no timeout".
    public static let zero = GoDuration(milliseconds: 0)

    /// A duration of exactly `milliseconds`; every value is valid, down to zero.
    public init(milliseconds: UInt32) {
        self.milliseconds = milliseconds
    }

    /// Parses `0`, `500ms`, `30s`, `2m`, `1h30m`, `1m30s`, `1.5s` (units h, m, s, ms).
    ///
    /// - Throws: `GoDurationSyntaxError` naming the text and the accepted form.
    public init(parsing text: some StringProtocol) throws(GoDurationSyntaxError) {
        let text = String(text)
        if text == "0" {
            self = .zero
            return
        }
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { throw GoDurationSyntaxError(text: text) }
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isNumber || $0 == "." })
            guard let value = Double(number) else { throw GoDurationSyntaxError(text: text) }
            rest.removeFirst(number.count)
            let unit = rest.prefix(while: { $0.isLetter })
            rest.removeFirst(unit.count)
            switch unit {
            case "h": total += value * 3_600_000
            case "m": total += value * 60_000
            case "s": total += value * 1000
            case "ms": total += value
            default: throw GoDurationSyntaxError(text: text)
            }
        }
        guard total <= Double(UInt32.max), total == total.rounded() else { throw GoDurationSyntaxError(text: text) }
        self.milliseconds = UInt32(total)
    }

    /// Go's spelling: `0s`, `500ms`, `30s`, `1m30s`, `1h0m0s`.
    public var description: String {
        let ms = Int(self.milliseconds)
        if ms == 0 { return "0s" }
        if ms < 1000 { return "\(ms)ms" }
        let hours = ms / 3_600_000
        let minutes = ms / 60_000 % 60
        let seconds = ms % 60_000
        var secondsText = String(seconds / 1000)
        if seconds % 1000 != 0 {
            var fraction = String(seconds % 1000)
            fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            secondsText += "." + fraction
        }
        if hours > 0 { return "\(hours)h\(minutes)m\(secondsText)s" }
        if minutes > 0 { return "\(minutes)m\(secondsText)s" }
        return "\(secondsText)s"
    }

    /// Orders by length, so a shorter timeout sorts first.
    public static func < (lhs: GoDuration, rhs: GoDuration) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }
}

/// A timeout that is not a Go duration.
public struct GoDurationSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rejected text, exactly as given.
    public let text: String

    /// One line naming the bad text and giving examples of the accepted form.
    public var description: String {
        "bad duration '\(self.text)'; expected a Go duration such as 0s, 500ms, 30s, 1m30s"
    }
}
