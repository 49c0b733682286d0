// TLS both ways over loopback: fpool serving WSS and HTTPS in front of simulated daemons that
// serve TLS, verified against the run's CA; a daemon whose certificate another CA issued is
// disabled naming why.

import Foundation
import LotusSim
import LotusWire
import PoolRuntime
import PoolServer
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct TLSTests {
    /// A CA whose certificate is written to a file of its own, removed by `remove()`.
    struct TestCA {
        let authority: SimCertificateAuthority
        let file: String

        init(name: String) throws {
            self.authority = try SimCertificateAuthority(commonName: name)
            let directory = FileManager.default.temporaryDirectory.appending(path: "fpool-tls-\(UUID().uuidString)").path(
                percentEncoded: false)
            self.file = try self.authority.writeCertificate(to: directory)
        }

        func identity() throws -> TLSServerIdentity {
            let issued = try self.authority.issue()
            return try TLSServerIdentity(certificatePEM: issued.certificatePEM, keyPEM: issued.keyPEM)
        }

        func remove() { try? FileManager.default.removeItem(atPath: (self.file as NSString).deletingLastPathComponent) }
    }

    @Test func aClientIsServedOverWSSInFrontOfTLSDaemonsAndAForeignCertificateDisablesItsDaemon() async throws {
        let trusted = try TestCA(name: "trusted CA")
        let foreign = try TestCA(name: "someone else's CA")
        defer {
            trusted.remove()
            foreign.remove()
        }
        let daemonIdentity = try trusted.identity()
        let foreignIdentity = try foreign.identity()
        let poolIdentity = try trusted.identity()
        try await withServedPool(
            simulation: { simulation in
                simulation.tls = daemonIdentity
                simulation.tlsByDaemon[2] = foreignIdentity
            },
            configure: { configuration, environment in
                configuration.tls = poolIdentity
                environment.daemonCAFile = trusted.file
            }
        ) { served in
            #expect(served.cluster.daemons.allSatisfy { $0.multiaddr.hasSuffix("/https") })
            let states = served.pool.nodes.map(\.state)
            #expect(states[0].isAvailable && states[1].isAvailable)
            #expect(!states[2].isAvailable)
            #expect(
                states[2].description.contains(
                    "TLS: the certificate of 127.0.0.1:\(served.cluster.daemons[2].port) is not trusted by FPOOL_DAEMON_CA=\(trusted.file)"),
                "\(states[2])")
            // A client that trusts the CA reads over WSS, and over HTTPS.
            let dialer = try TLSDialer(caFile: trusted.file, source: "test CA")
            let client = try await LotusWSClient.connect(host: "127.0.0.1", port: served.port, token: served.adminToken, tls: dialer)
            #expect(try await client.call("Filecoin.ChainHead")["Height"]?.int == served.cluster.networkHeight)
            await client.close()
            let https = try await LotusHTTPClient.call(host: "127.0.0.1", port: served.port, method: "Filecoin.ChainHead", tls: dialer)
            #expect(https.status == 200)
            #expect(https.json?["result"]?["Height"]?.int == served.cluster.networkHeight)
            // A client trusting another CA is refused by its own TLS, saying why; plain HTTP gets no answer.
            let stranger = try TLSDialer(caFile: foreign.file, source: "test CA")
            let refused = await #expect(throws: TLSDialError.self) {
                _ = try await LotusWSClient.connect(host: "127.0.0.1", port: served.port, tls: stranger)
            }
            #expect(refused?.description.hasPrefix("TLS: the certificate of 127.0.0.1:\(served.port) is not trusted by test CA=") == true)
            await #expect(throws: (any Error).self) { _ = try await served.http("Filecoin.ChainHead") }
            // The repo says /https and holds the certificate fpool's own commands pin.
            let endpoint = try served.instance.repo.readEndpoint()
            #expect(endpoint.api == "/ip4/127.0.0.1/tcp/\(served.port)/https")
            let pinned = try TLSDialer(pinning: served.instance.repo.certificateFile)
            let admin = try await LotusHTTPClient.call(
                host: "127.0.0.1", port: served.port, method: "FPool.NodeList", token: endpoint.token, tls: pinned)
            #expect(admin.json?["result"]?.array?.count == 3)
            let info = try #require(try await served.admin(pinned, "AuthAPIInfo", ["read"]).string)
            #expect(info.hasSuffix("/tcp/\(served.port)/https"))
        }
    }

    /// A client that connects and never completes the handshake (or trickles it) costs what an
    /// idle plain connection costs: TLS bytes are not requests, and the idle timer closes it.
    @Test func aConnectionThatNeverCompletesItsHandshakeIsClosedWhenIdle() async throws {
        let ca = try TestCA(name: "pool CA")
        defer { ca.remove() }
        let identity = try ca.identity()
        try await withServedPool(configure: { configuration, _ in
            configuration.tls = identity
            configuration.idleTimeout = .seconds(1)
        }) { served in
            let silent = try await RawWebSocketPeer.open(port: served.port)
            let started = ContinuousClock.now
            // A ClientHello's first bytes, then nothing. (A test task starved past the idle
            // timeout finds the connection closed already, which is the outcome too.)
            try? await silent.sendRaw(bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
            #expect(try await silent.bytesUntilClosed().isEmpty)
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    /// A daemon dialled by IP must have that address in its certificate, whoever issued it; fpool's
    /// own CLI pins the pool's certificate, which may name only the host's public name.
    @Test func aCertificateForAnotherHostDisablesItsDaemonButThePoolsPinStillHolds() async throws {
        let ca = try TestCA(name: "one CA")
        defer { ca.remove() }
        let elsewhere = try ca.authority.issue(commonName: "lotus.example", dnsNames: ["lotus.example"], ipAddresses: [])
        let daemon = try TLSServerIdentity(certificatePEM: elsewhere.certificatePEM, keyPEM: elsewhere.keyPEM)
        let publicName = try ca.authority.issue(commonName: "pool.example", dnsNames: ["pool.example"], ipAddresses: [])
        let pool = try TLSServerIdentity(certificatePEM: publicName.certificatePEM, keyPEM: publicName.keyPEM)
        let good = try ca.identity()
        try await withServedPool(
            simulation: { simulation in
                simulation.tls = good
                simulation.tlsByDaemon[1] = daemon
            },
            configure: { configuration, environment in
                configuration.tls = pool
                environment.daemonCAFile = ca.file
            }
        ) { served in
            let states = served.pool.nodes.map(\.state)
            #expect(states[0].isAvailable && !states[1].isAvailable && states[2].isAvailable)
            #expect(
                states[1].description.contains(
                    "TLS: the certificate of 127.0.0.1:\(served.cluster.daemons[1].port) does not name 127.0.0.1"),
                "\(states[1])")
            // A client trusting the CA but dialling 127.0.0.1 is refused: the pool's certificate names pool.example only.
            await #expect(throws: TLSDialError.self) {
                _ = try await LotusWSClient.connect(host: "127.0.0.1", port: served.port, tls: try TLSDialer(caFile: ca.file, source: "CA"))
            }
            let pinned = try TLSDialer(pinning: served.instance.repo.certificateFile)
            #expect(try await served.admin(pinned, "NodeList").array?.count == 3)
        }
    }

    @Test func unusableTLSFilesAreNamedWithTheirProblem() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "fpool-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = directory.appending(path: "garbage.pem").path(percentEncoded: false)
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: garbage))
        let ca = #expect(throws: TLSSetupError.self) { try TLSDialer(caFile: garbage, source: "FPOOL_DAEMON_CA") }
        #expect(ca?.description.hasPrefix("FPOOL_DAEMON_CA \(garbage): ") == true)
        let missing = #expect(throws: TLSSetupError.self) {
            try TLSServerIdentity(
                certificateFile: directory.appending(path: "none.pem").path(percentEncoded: false), keyFile: garbage,
                certificateSource: "--tls-cert", keySource: "--tls-key")
        }
        #expect(missing?.description.contains("--tls-cert") == true && missing?.description.contains("cannot be read") == true)
        // A key that is not the certificate's is refused at start, not at the first client.
        let authority = try SimCertificateAuthority()
        let one = try authority.issue()
        let other = try authority.issue()
        let mismatch = #expect(throws: TLSSetupError.self) {
            try TLSServerIdentity(certificatePEM: one.certificatePEM, keyPEM: other.keyPEM)
        }
        #expect(mismatch?.description.contains("does not match the certificate") == true)
    }
}

extension ServedPool {
    /// An admin call over HTTPS, pinned to the pool's certificate.
    fileprivate func admin(_ tls: TLSDialer, _ method: String, _ params: [JSON] = []) async throws -> JSON {
        let response = try await LotusHTTPClient.call(
            host: "127.0.0.1", port: self.port, method: "FPool." + method, params: params, token: self.adminToken, tls: tls)
        return response.json?["result"] ?? .null
    }
}
