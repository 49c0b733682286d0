// Lotus API multiaddrs (`/ip4/1.2.3.4/tcp/1234/http`), parsed into what a connection needs.

/// A daemon's API address as Lotus writes it: `/ip4/…`, `/ip6/…`, `/dns/…`, `/dns4/…` or
/// `/dns6/…`, then `/tcp/<port>`, then optionally `/http`, `/https`, `/ws` or `/wss`
/// (plain HTTP when absent, as Lotus assumes).
public struct Multiaddr: Sendable, Hashable, CustomStringConvertible {
    /// The address protocol, which says how to read `host` (an IP address or a DNS name to resolve).
    public enum HostKind: String, Sendable {
        case ip4, ip6, dns, dns4, dns6
    }

    /// The protocol of the first component, as written (`ip4`, `dns`, …).
    public let hostKind: HostKind
    /// The IP address or DNS name, without brackets even for IPv6 (`websocketURL` adds them).
    public let host: String
    /// The TCP port, 1…65535, or 0 when parsed with `listening: true` (a listener picking a free port).
    public let port: Int
    /// TLS (`https`/`wss`).
    public let secure: Bool
    /// The protocol word as written (`http`, `ws`, …), nil when absent.
    public let scheme: String?

    /// Parses a daemon's or a listener's address, `/ip4/127.0.0.1/tcp/1234/http`.
    ///
    /// - Parameters:
    ///   - text: the multiaddr as an operator writes it.
    ///   - listening: allows port 0 (a listener picking a free port).
    /// - Throws: `MultiaddrError` saying which component is wrong and what was expected.
    public init(parsing text: String, listening: Bool = false) throws(MultiaddrError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard text.hasPrefix("/"), parts.count >= 4 else {
            throw MultiaddrError(text: text, reason: "expected /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>[/http|https|ws|wss]")
        }
        let components = Array(parts)
        guard let kind = HostKind(rawValue: String(components[0])) else {
            throw MultiaddrError(text: text, reason: "unknown address protocol '\(components[0])'; expected ip4, ip6, dns, dns4 or dns6")
        }
        let host = String(components[1])
        guard !host.isEmpty else { throw MultiaddrError(text: text, reason: "empty host") }
        if kind == .ip4 && !Self.isIPv4(host) { throw MultiaddrError(text: text, reason: "'\(host)' is not an IPv4 address") }
        if kind == .ip6 && (!host.contains(":") || !host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." })) {
            throw MultiaddrError(text: text, reason: "'\(host)' is not an IPv6 address")
        }
        guard components[2] == "tcp" else {
            throw MultiaddrError(text: text, reason: "expected tcp after the host, found '\(components[2])'")
        }
        guard let port = Int(components[3]), ((listening ? 0 : 1)...65535).contains(port) else {
            throw MultiaddrError(text: text, reason: "bad port '\(components[3])'; expected \(listening ? 0 : 1)…65535")
        }
        var scheme: String?
        if components.count >= 5 {
            guard components.count == 5, ["http", "https", "ws", "wss"].contains(components[4]) else {
                throw MultiaddrError(
                    text: text, reason: "unexpected '\(components[4...].joined(separator: "/"))'; expected http, https, ws or wss")
            }
            scheme = String(components[4])
        }
        self.hostKind = kind
        self.host = host
        self.port = port
        self.scheme = scheme
        self.secure = scheme == "https" || scheme == "wss"
    }

    /// The WebSocket URL a Lotus client derives: `ws://1.2.3.4:1234/rpc/v1`.
    public func websocketURL(path: String) -> String {
        let host = self.hostKind == .ip6 ? "[\(self.host)]" : self.host
        return "\(self.secure ? "wss" : "ws")://\(host):\(self.port)\(path)"
    }

    /// The multiaddr in Lotus's form; it parses back to an equal value.
    public var description: String {
        "/\(self.hostKind.rawValue)/\(self.host)/tcp/\(self.port)" + (self.scheme.map { "/" + $0 } ?? "")
    }

    private static func isIPv4(_ text: String) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        // Digits only: `Int("+1")` parses, and Lotus's multiaddr parser refuses a sign.
        return octets.count == 4
            && octets.allSatisfy { octet in
                !octet.isEmpty && octet.count <= 3 && octet.allSatisfy { $0.isASCII && $0.isNumber }
                    && Int(octet).map { (0...255).contains($0) } == true
            }
    }
}

/// A multiaddr that is not one Lotus would accept.
public struct MultiaddrError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rejected text, exactly as given.
    public let text: String
    /// Which component is wrong and what was expected there.
    public let reason: String

    /// One line naming the bad multiaddr and the reason.
    public var description: String { "bad multiaddr '\(self.text)': \(self.reason)" }
}
