// The multiaddrs clients reach the pool at. A wildcard listen address (0.0.0.0, ::) names no
// host: the repo's `api` file then says loopback (its readers run on this host), and
// `auth api-info` names the host's first non-loopback interface, or the operator's `--address`.

import LotusWire
import NIOCore

/// Where the server listens, and the addresses it gives clients.
struct ClientAddress: Sendable {
    /// The configured listen host (IPv4 or IPv6, no brackets).
    let host: String
    /// Whether the server speaks TLS (`/https`).
    let secure: Bool

    /// For clients on this host: the listen address, loopback for a wildcard.
    func local(port: Int) -> String {
        guard Self.isWildcard(self.host) else { return self.multiaddr(host: self.host, port: port) }
        return self.multiaddr(host: self.host.contains(":") ? "::1" : "127.0.0.1", port: port)
    }

    /// For clients on other hosts: `override` (an IP address or DNS name) when given, the listen
    /// address unless it is a wildcard, else the host's first non-loopback address of that family.
    ///
    /// - Throws: `RPCError` for an override that is neither an IP address nor a DNS name.
    func remote(port: Int, override: String?) throws(RPCError) -> String {
        if let override {
            if Self.isIPv6(override) || Self.isIPv4(override) { return self.multiaddr(host: override, port: port) }
            guard Self.isDNSName(override) else {
                throw RPCError(code: 1, message: "--address '\(override)' is neither an IP address nor a DNS name")
            }
            return "/dns/\(override)/tcp/\(port)/\(self.secure ? "https" : "http")"
        }
        guard Self.isWildcard(self.host) else { return self.multiaddr(host: self.host, port: port) }
        let ipv6 = self.host.contains(":")
        return self.multiaddr(host: Self.firstInterfaceAddress(ipv6: ipv6) ?? (ipv6 ? "::1" : "127.0.0.1"), port: port)
    }

    func multiaddr(host: String, port: Int) -> String {
        "/\(host.contains(":") ? "ip6" : "ip4")/\(host)/tcp/\(port)/\(self.secure ? "https" : "http")"
    }

    static func isWildcard(_ host: String) -> Bool {
        host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0"
    }

    /// The first address of an up interface that is not loopback (nor IPv6 link-local, which
    /// needs a zone a multiaddr cannot carry), in the system's interface order.
    static func firstInterfaceAddress(ipv6: Bool) -> String? {
        let devices = (try? System.enumerateDevices()) ?? []
        for device in devices {
            guard let address = device.address, let ip = address.ipAddress else { continue }
            switch address {
            case .v4 where !ipv6 && !ip.hasPrefix("127."): return ip
            case .v6 where ipv6 && ip != "::1" && !ip.lowercased().hasPrefix("fe80"): return ip
            default: continue
            }
        }
        return nil
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && Int($0)! <= 255 }
    }

    /// Hex digits and colons (two at least), and a dotted IPv4 tail, as IPv6 addresses are written; no brackets, no zone.
    static func isIPv6(_ text: String) -> Bool {
        text.filter { $0 == ":" }.count >= 2 && text.count <= 45
            && text.allSatisfy { $0 == ":" || $0 == "." || $0.isHexDigit }
    }

    /// Letters, digits, hyphens and dots, as DNS names are written (RFC 1123), at most 253 characters.
    static func isDNSName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return text.count <= 253 && !labels.isEmpty
            && labels.allSatisfy { label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            } && !labels.last!.allSatisfy(\.isNumber)
    }
}
