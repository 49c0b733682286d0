// The addresses fpool gives clients when it listens on a wildcard address.

import NIOCore
import Testing

@testable import PoolServer

@Suite struct ClientAddressTests {
    @Test func aWildcardListenGivesRemoteClientsAnInterfaceAddressAndLocalOnesLoopback() throws {
        let address = ClientAddress(host: "0.0.0.0", secure: false)
        #expect(address.local(port: 2245) == "/ip4/127.0.0.1/tcp/2245/http")
        let remote = try address.remote(port: 2245, override: nil)
        #expect(!remote.contains("0.0.0.0"))
        // The host's first up, non-loopback IPv4 address, as the system lists them; loopback only without one.
        let expected =
            (try System.enumerateDevices()).compactMap { device -> String? in
                guard case .v4 = device.address, let ip = device.address?.ipAddress, !ip.hasPrefix("127.") else { return nil }
                return ip
            }.first ?? "127.0.0.1"
        #expect(remote == "/ip4/\(expected)/tcp/2245/http")
    }

    @Test func aSpecificListenAddressIsGivenAsIsAndTLSSaysHTTPS() throws {
        #expect(try ClientAddress(host: "10.0.0.7", secure: false).remote(port: 1, override: nil) == "/ip4/10.0.0.7/tcp/1/http")
        #expect(try ClientAddress(host: "::1", secure: true).remote(port: 2, override: nil) == "/ip6/::1/tcp/2/https")
        #expect(try ClientAddress(host: "::", secure: true).remote(port: 3, override: "pool.lan") == "/dns/pool.lan/tcp/3/https")
        #expect(ClientAddress(host: "::", secure: false).local(port: 4) == "/ip6/::1/tcp/4/http")
    }

    @Test func addressOverridesMustBeIPAddressesOrDNSNames() {
        let address = ClientAddress(host: "0.0.0.0", secure: false)
        for bad in ["a b", "-x.lan", "x..lan", "1.2.3.4.5", "999.1.1.1", "/ip4/1.2.3.4", "a:b", "[::1]"] {
            #expect(throws: (any Error).self, "\(bad)") { try address.remote(port: 1, override: bad) }
        }
    }
}
