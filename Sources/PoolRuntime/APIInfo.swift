// The daemons fpool is given: FULLNODE_API_POOL_INFO and FULLNODE_API_INFO entries.

/// One daemon as configured: its token, its API address and a display name.
public struct NodeEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The JWT fpool sends this daemon in its `Authorization` header; never printed (see `description`).
    public let token: String
    /// Where the daemon's API listens; fpool dials it over plain `ws://`.
    public let address: Multiaddr
    /// The node's name in logs, metrics and `fpool node list`: the entry's third field, or the multiaddr's host when it has none.
    public let name: String

    /// An endpoint as given; nothing is checked here (`APIInfo` validates configuration text).
    public init(token: String, address: Multiaddr, name: String) {
        self.token = token
        self.address = address
        self.name = name
    }

    /// The entry with its token redacted, safe for logs and errors.
    public var description: String { "<token>:\(self.address):\(self.name)" }
}

/// Parses the seed's configuration strings. Errors name the entry (token redacted) and say
/// what is wrong; nothing is skipped silently.
package enum APIInfo {
    /// `FULLNODE_API_POOL_INFO`: `token:multiaddr:hostname` entries separated by `,` (or `;`,
    /// which the seed's own output uses). The name defaults to the host when omitted.
    ///
    /// - Throws: `PoolInfoError` with every bad entry, each naming its position (1-based) and
    ///   the reason, so an operator fixes the whole variable in one go.
    package static func parsePool(_ text: String) throws(PoolInfoError) -> [NodeEndpoint] {
        let entries = text.split(whereSeparator: { $0 == "," || $0 == ";" }).map { String($0).trimmedSpaces }
        var endpoints: [NodeEndpoint] = []
        var bad: [APIInfoError] = []
        for (index, entry) in entries.enumerated() where !entry.isEmpty {
            do {
                endpoints.append(try self.parseEntry(entry, position: index + 1, variable: "FULLNODE_API_POOL_INFO"))
            } catch {
                bad.append(error)
            }
        }
        guard bad.isEmpty else { throw PoolInfoError(badEntries: bad) }
        return endpoints
    }

    /// `FULLNODE_API_INFO`: one legacy `token:multiaddr` (a name is accepted too).
    package static func parseLegacy(_ text: String) throws(APIInfoError) -> NodeEndpoint {
        try self.parseEntry(text.trimmedSpaces, position: 1, variable: "FULLNODE_API_INFO")
    }

    static func parseEntry(_ entry: String, position: Int, variable: String) throws(APIInfoError) -> NodeEndpoint {
        func fail(_ reason: String) -> APIInfoError {
            APIInfoError(variable: variable, position: position, entry: Self.redacted(entry), reason: reason)
        }
        if entry.hasPrefix("/") { throw fail("missing the token before the multiaddr; expected token:multiaddr[:name]") }
        guard let colon = entry.firstIndex(of: ":") else { throw fail("expected token:multiaddr[:name]") }
        let token = String(entry[..<colon])
        let rest = entry[entry.index(after: colon)...]
        guard !token.isEmpty else { throw fail("empty token") }
        guard token.split(separator: ".").count == 3 else { throw fail("the token is not a JWT (header.payload.signature)") }
        guard rest.hasPrefix("/") else { throw fail("expected a multiaddr starting with '/' after the token") }
        // The name follows the last ':' in the last '/' component (IPv6 hosts contain ':' too).
        let lastSlash = rest.lastIndex(of: "/")!
        let nameColon = rest[lastSlash...].firstIndex(of: ":")
        let addressText = String(nameColon.map { rest[..<$0] } ?? rest)
        let address: Multiaddr
        do {
            address = try Multiaddr(parsing: addressText)
        } catch {
            throw fail(error.description)
        }
        let name = nameColon.map { String(rest[rest.index(after: $0)...]) } ?? address.host
        guard !name.isEmpty else { throw fail("empty name after the multiaddr") }
        return NodeEndpoint(token: token, address: address, name: name)
    }

    /// `token:rest` → `<token>:rest`; an entry that starts with its multiaddr has no token to
    /// hide, and is shown whole so that it can be found.
    static func redacted(_ entry: String) -> String {
        if entry.hasPrefix("/") { return entry }
        guard let colon = entry.firstIndex(of: ":") else { return "<token>" }
        return "<token>" + entry[colon...]
    }
}

/// A bad daemon entry in the environment.
public struct APIInfoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The environment variable the entry came from: `FULLNODE_API_POOL_INFO` or `FULLNODE_API_INFO`.
    public let variable: String
    /// The entry's 1-based position in the variable's list (always 1 for `FULLNODE_API_INFO`).
    public let position: Int
    /// The entry with its token replaced by `<token>`.
    public let entry: String
    /// What is wrong with the entry and, where it helps, what was expected.
    public let reason: String

    /// One line naming the variable, the position, the redacted entry and the reason.
    public var description: String { "\(self.variable) entry \(self.position) (\(self.entry)): \(self.reason)" }
}

/// Every bad entry of `FULLNODE_API_POOL_INFO`, in order.
public struct PoolInfoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failing entries, in the order they appear; never empty when thrown.
    public let badEntries: [APIInfoError]

    /// One line per bad entry.
    public var description: String { self.badEntries.map(\.description).joined(separator: "\n") }
}

extension String {
    var trimmedSpaces: String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
