// How long a read waits for its node before the next node is asked too (a hedge).

import RouteModel

/// `HedgeDelay` (pool-wide) and `api set --key=hedge` (per API).
public enum HedgeSetting: Sendable, Hashable, CustomStringConvertible {
    /// Never hedge.
    case off
    /// Follow the method's observed latency (see `LatencyEstimates`).
    case auto
    /// A fixed delay.
    case after(GoDuration)

    /// `off`, `auto`, or a Go duration such as `150ms`.
    public init?(text: String) {
        switch text {
        case "off": self = .off
        case "auto": self = .auto
        default:
            guard let duration = try? GoDuration(parsing: text), duration.milliseconds > 0 else { return nil }
            self = .after(duration)
        }
    }

    /// The accepted forms, for error messages that reject a hedge value.
    public static let expected = "off, auto, or a Go duration above 0 such as 150ms"

    /// The text form `init(text:)` accepts: `off`, `auto` or the delay as a Go duration.
    public var description: String {
        switch self {
        case .off: "off"
        case .auto: "auto"
        case .after(let duration): duration.description
        }
    }
}

extension Duration {
    /// As a Go duration (`150ms`, `3s`), the way every other setting is printed.
    public var goText: String {
        let milliseconds = self.components.seconds * 1_000 + self.components.attoseconds / 1_000_000_000_000_000
        return GoDuration(milliseconds: UInt32(clamping: max(0, milliseconds))).description
    }
}
