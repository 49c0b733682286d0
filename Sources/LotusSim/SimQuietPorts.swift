// Where a simulated daemon asked for "any free port" listens: below the kernel's ephemeral range,
// so that while the daemon is killed no outgoing connection on the machine is given its port,
// and starting it again finds the port free.

import Foundation

/// Ports the kernel never hands out by itself (not to `bind` on port 0, not to `connect`).
///
/// A port picked with 0 comes from the ephemeral range. Between a kill and the next start the
/// kernel may give it to any outgoing connection as its local port (a test run makes thousands),
/// and that connection can hold it for as long as it lives. Below the range, only another
/// program that names the port can take it.
enum SimQuietPorts {
    /// The lowest port tried: well above the ports services are configured on.
    static let floor = 10_000
    /// Random picks before falling back to a port from the kernel.
    static let attempts = 32

    /// The ports to pick from, or nil when the ephemeral range leaves fewer than 1,000 below it.
    static func range(ephemeralStart: Int = ephemeralStart()) -> ClosedRange<Int>? {
        ephemeralStart - 1 - floor >= 1_000 ? floor...(ephemeralStart - 1) : nil
    }

    /// The first port of the kernel's ephemeral range: Linux's `ip_local_port_range`, else IANA's
    /// 49152 (macOS and the BSDs start there by default).
    static func ephemeralStart(rangeFile: String = "/proc/sys/net/ipv4/ip_local_port_range") -> Int {
        guard let text = try? String(contentsOfFile: rangeFile, encoding: .utf8) else { return 49_152 }
        return self.ephemeralStart(parsing: text) ?? 32_768
    }

    /// The first of the two numbers `ip_local_port_range` holds ("32768\t60999"); nil for anything else.
    static func ephemeralStart(parsing text: String) -> Int? {
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard numbers.count == 2, (1...65_535).contains(numbers[0]), numbers[0] <= numbers[1] else { return nil }
        return numbers[0]
    }
}
