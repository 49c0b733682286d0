// `fpool run`'s client limits: parsed into the server's configuration, refused with the flag
// named and what was expected.

import ArgumentParser
import PoolServer
import Testing

@testable import fpool

@Suite struct ServeLimitOptionsTests {
    @Test("the limit flags set the server's configuration")
    func flagsSetTheConfiguration() throws {
        let options = try ServeOptions.parse([
            "--max-connections=100", "--max-calls-per-connection=50", "--max-queued-bytes=1048576", "--request-timeout=5s",
            "--max-channels-per-connection=8", "--max-channels=500", "--max-buffered-request-bytes=209715200",
            "--max-answer-bytes=2097152",
        ])
        let configuration = try options.configuration([:])
        #expect(configuration.maxConnections == 100)
        #expect(configuration.maxCallsInFlight == 50)
        #expect(configuration.maxQueuedBytes == 1 << 20)
        #expect(configuration.requestTimeout == .seconds(5))
        #expect(configuration.maxChannelsPerConnection == 8 && configuration.maxChannels == 500)
        #expect(configuration.maxBufferedRequestBytes == 200 << 20)
        #expect(configuration.maxAnswerBytes == 2 << 20)
        #expect(try ServeOptions.parse([]).configuration([:]).maxAnswerBytes == 128 << 20)
        // Unset, the cap follows the descriptor limit.
        #expect(try ServeOptions.parse([]).configuration([:]).maxConnections == ServerConfiguration.defaultMaxConnections())
    }

    @Test(
        "a bad limit is refused naming the flag and what was expected",
        arguments: [
            ("--max-connections=0", "--max-connections: expected at least 1, got 0"),
            ("--max-calls-per-connection=0", "--max-calls-per-connection: expected at least 1, got 0"),
            ("--max-channels-per-connection=0", "--max-channels-per-connection: expected at least 1, got 0"),
            ("--max-channels=0", "--max-channels: expected at least 1, got 0"),
            ("--max-queued-bytes=100", "--max-queued-bytes: expected at least 65536 bytes, got 100"),
            (
                "--max-buffered-request-bytes=1000",
                "--max-buffered-request-bytes: expected at least --max-request-bytes (104857600), got 1000"
            ),
            ("--max-answer-bytes=65536", "--max-answer-bytes: expected at least 1048576 bytes (1 MiB), got 65536"),
            ("--request-timeout=soon", "--request-timeout: expected a duration such as 30s or 1m, got 'soon'"),
            ("--request-timeout=10ms", "--request-timeout: expected at least 100ms, got 10ms"),
            ("--tls-cert=/etc/fpool/cert.pem", "--tls-cert needs a private key: give --tls-key or FPOOL_TLS_KEY too"),
            ("--tls-key=/etc/fpool/key.pem", "--tls-key needs a certificate: give --tls-cert or FPOOL_TLS_CERT too"),
            (
                "--listen=/ip4/0.0.0.0/tcp/2245/https",
                "--listen: '/ip4/0.0.0.0/tcp/2245/https' asks for TLS: give --tls-cert and --tls-key (or FPOOL_TLS_CERT and FPOOL_TLS_KEY)"
            ),
        ])
    func badLimitsAreRefused(_ flag: String, _ message: String) throws {
        let options = try ServeOptions.parse([flag])
        #expect(throws: ValidationError.self) { _ = try options.configuration([:]) }
        do {
            _ = try options.configuration([:])
        } catch let error as ValidationError {
            #expect(error.message == message)
        }
    }
}
