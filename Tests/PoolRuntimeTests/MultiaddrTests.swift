// Lotus multiaddrs and the daemon entries of FULLNODE_API_POOL_INFO / FULLNODE_API_INFO.

import PoolRuntime
import Testing

@Suite struct MultiaddrTests {
    @Test(arguments: [
        ("/ip4/192.168.2.205/tcp/1234/http", "ws://192.168.2.205:1234/rpc/v1"),
        ("/ip4/127.0.0.1/tcp/2245", "ws://127.0.0.1:2245/rpc/v1"),
        ("/ip6/::1/tcp/1234/http", "ws://[::1]:1234/rpc/v1"),
        ("/dns/lotus.example/tcp/443/https", "wss://lotus.example:443/rpc/v1"),
        ("/dns4/daemon-1/tcp/1234/wss", "wss://daemon-1:1234/rpc/v1"),
        ("/dns6/daemon-1/tcp/1234/ws", "ws://daemon-1:1234/rpc/v1"),
    ])
    func parsesWhatLotusWrites(_ text: String, _ url: String) throws {
        let address = try Multiaddr(parsing: text)
        #expect(address.websocketURL(path: "/rpc/v1") == url)
        #expect(address.description == text)
    }

    @Test(arguments: [
        ("192.168.1.1:1234", "expected /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>"),
        ("/ip4/300.1.1.1/tcp/1234/http", "'300.1.1.1' is not an IPv4 address"),
        ("/ip4/+1.2.3.4/tcp/1234/http", "'+1.2.3.4' is not an IPv4 address"),
        ("/ip4/1.2.3.4/udp/1234/http", "expected tcp after the host, found 'udp'"),
        ("/ip4/1.2.3.4/tcp/0/http", "bad port '0'; expected 1…65535"),
        ("/ip4/1.2.3.4/tcp/http", "bad port 'http'"),
        ("/ip4/1.2.3.4/tcp/1234/quic", "unexpected 'quic'; expected http, https, ws or wss"),
        ("/unix/tmp/sock/tcp/1", "unknown address protocol 'unix'"),
    ])
    func rejectsWithTheReason(_ text: String, _ reason: String) {
        let error = #expect(throws: MultiaddrError.self) { try Multiaddr(parsing: text) }
        #expect(error?.description.contains(reason) == true, "\(error?.description ?? "")")
    }
}

@Suite struct APIInfoTests {
    static let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIl19.Xov5mHGev5g67tp0KWWjmiYwJeb-0Qv5goY8OXn8shg"

    @Test func poolInfoWithCommasOrSemicolons() throws {
        let text =
            "\(Self.token):/ip4/192.168.2.205/tcp/1234/http:daemon_01,\(Self.token):/ip4/192.168.2.206/tcp/1234/http:daemon_02;\(Self.token):/ip6/::1/tcp/1234/http:local"
        let nodes = try APIInfo.parsePool(text)
        #expect(nodes.map(\.name) == ["daemon_01", "daemon_02", "local"])
        #expect(nodes[2].address.host == "::1")
        #expect(nodes.allSatisfy { $0.token == Self.token })
    }

    @Test func legacyInfoNamesTheNodeAfterItsHost() throws {
        let node = try APIInfo.parseLegacy("\(Self.token):/ip4/10.0.0.7/tcp/1234/http")
        #expect(node.name == "10.0.0.7")
        #expect(node.address.port == 1234)
    }

    @Test func badEntriesAreNamedWithTheTokenRedacted() {
        let text = "\(Self.token):/ip4/1.2.3.4/tcp/1234/http:a,\(Self.token):/ip4/1.2.3.4/tcp/99999/http:b"
        let error = #expect(throws: PoolInfoError.self) { try APIInfo.parsePool(text) }
        #expect(
            error?.description
                == "FULLNODE_API_POOL_INFO entry 2 (<token>:/ip4/1.2.3.4/tcp/99999/http:b): bad multiaddr '/ip4/1.2.3.4/tcp/99999/http': bad port '99999'; expected 1…65535"
        )
        #expect(error?.description.contains(Self.token) == false)
        let noToken = #expect(throws: APIInfoError.self) { try APIInfo.parseLegacy("/ip4/1.2.3.4/tcp/1234/http") }
        #expect(noToken?.reason == "missing the token before the multiaddr; expected token:multiaddr[:name]")
        let notJWT = #expect(throws: APIInfoError.self) { try APIInfo.parseLegacy("secret:/ip4/1.2.3.4/tcp/1234/http") }
        #expect(
            notJWT?.description
                == "FULLNODE_API_INFO entry 1 (<token>:/ip4/1.2.3.4/tcp/1234/http): the token is not a JWT (header.payload.signature)")
    }

    /// Three bad entries among good ones: each is reported, in order, naming its position and
    /// entry with the token redacted, so one start-up shows everything to fix.
    @Test func everyBadPoolEntryIsReportedNotOnlyTheFirst() {
        let text = [
            "\(Self.token):/ip4/10.0.0.1/tcp/1234/http:a",
            "\(Self.token):/ip4/10.0.0.2/tcp/70000/http:b",
            "\(Self.token):/ip4/10.0.0.3/tcp/1234/http:c",
            "/ip4/10.0.0.4/tcp/1234/http:d",
            "\(Self.token):/ip4/10.0.0.5/tcp/1234/quic:e",
            "\(Self.token):/ip4/10.0.0.6/tcp/1234/http:f",
        ].joined(separator: ",")
        let error = #expect(throws: PoolInfoError.self) { try APIInfo.parsePool(text) }
        #expect(error?.badEntries.map(\.position) == [2, 4, 5])
        #expect(
            error?.badEntries.map(\.entry) == [
                "<token>:/ip4/10.0.0.2/tcp/70000/http:b", "/ip4/10.0.0.4/tcp/1234/http:d", "<token>:/ip4/10.0.0.5/tcp/1234/quic:e",
            ])
        let lines = error?.description.split(separator: "\n").map(String.init) ?? []
        #expect(lines.count == 3)
        #expect(
            lines.first
                == "FULLNODE_API_POOL_INFO entry 2 (<token>:/ip4/10.0.0.2/tcp/70000/http:b): bad multiaddr '/ip4/10.0.0.2/tcp/70000/http': bad port '70000'; expected 1…65535"
        )
        #expect(error?.description.contains(Self.token) == false)
    }

    /// Daemons behind TLS are given as `/https` or `/wss` (also by DNS name) and dialled over TLS.
    @Test func tlsDaemonEntriesAreDialledSecurely() throws {
        let text = "\(Self.token):/ip4/1.2.3.4/tcp/1234/http:a,\(Self.token):/dns/lotus.example/tcp/443/wss:b"
        let nodes = try APIInfo.parsePool(text)
        #expect(nodes.map(\.address.secure) == [false, true])
        #expect(nodes[1].address.websocketURL(path: "/rpc/v1") == "wss://lotus.example:443/rpc/v1")
        #expect(try APIInfo.parseLegacy("\(Self.token):/ip4/10.0.0.7/tcp/1234/https").address.secure)
    }

    /// The exact line `fpool sim` prints parses back into its daemons.
    @Test func simulatorPoolInfoParses() throws {
        let line = "\(Self.token):/ip4/127.0.0.1/tcp/1234/http:sim-daemon-0,\(Self.token):/ip4/127.0.0.1/tcp/1235/http:sim-daemon-1"
        #expect(try APIInfo.parsePool(line).map(\.address.port) == [1234, 1235])
    }
}
