// TLS for fpool's outgoing connections (to daemons; the CLI to its pool) over swift-nio-ssl:
// the peer is verified against the system's roots or a CA file, by its DNS name or, dialled
// by IP address, by the address in its certificate; or pinned to one certificate.

import NIOCore
import NIOSSL

/// How one client dials over TLS. Concurrency: immutable; one context serves every connection.
public struct TLSDialer: Sendable {
    let context: NIOSSLContext
    /// The only certificate accepted, as DER, when pinned (see `init(pinning:)`).
    let pinned: [UInt8]?
    /// Where trust comes from, for error texts: "the system's roots" or "FPOOL_DAEMON_CA=<file>".
    public let trust: String

    /// Verifies peers against the PEM CA certificates in `caFile` (`source` names it for errors, e.g.
    /// `FPOOL_DAEMON_CA`), or the system's roots without one.
    ///
    /// - Throws: `TLSSetupError` naming the file when it cannot be read as PEM certificates.
    public init(caFile: String?, source: String) throws(TLSSetupError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                guard !certificates.isEmpty else { throw TLSSetupError(source: source, file: caFile, reason: "holds no PEM certificate") }
                configuration.trustRoots = .certificates(certificates)
            } catch let error as TLSSetupError {
                throw error
            } catch {
                throw TLSSetupError(source: source, file: caFile, reason: "cannot be read as PEM certificates (\(error))")
            }
        }
        self.context = try Self.context(configuration, source: source, file: caFile ?? "")
        self.pinned = nil
        self.trust = caFile.map { "\(source)=\($0)" } ?? "the system's roots"
    }

    /// Accepts exactly the certificate in the PEM file `certificateFile`, whatever name it
    /// carries: how fpool's CLI reaches its own pool on this host, whose certificate the pool
    /// wrote to its repo (the certificate may name only the host's public name).
    ///
    /// - Throws: `TLSSetupError` naming the file.
    public init(pinning certificateFile: String) throws(TLSSetupError) {
        let der: [UInt8]
        do {
            guard let leaf = try NIOSSLCertificate.fromPEMFile(certificateFile).first else {
                throw TLSSetupError(source: "the pool's certificate", file: certificateFile, reason: "holds no PEM certificate")
            }
            der = try leaf.toDERBytes()
        } catch let error as TLSSetupError {
            throw error
        } catch {
            throw TLSSetupError(
                source: "the pool's certificate", file: certificateFile, reason: "cannot be read as a PEM certificate (\(error))")
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        // The pin is the whole check: the certificate may name only the host's public name,
        // while the repo's api file says loopback.
        configuration.certificateVerification = .noHostnameVerification
        self.context = try Self.context(configuration, source: "the pool's certificate", file: certificateFile)
        self.pinned = der
        self.trust = "the pool's certificate \(certificateFile)"
    }

    private static func context(_ configuration: TLSConfiguration, source: String, file: String) throws(TLSSetupError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(source: source, file: file, reason: "cannot set up TLS (\(error))")
        }
    }

    /// The handler that starts a connection's TLS, first in its pipeline. An IP address is not
    /// sent as SNI (TLS forbids it) and is checked against the certificate's IP addresses.
    func handler(host: String) throws -> NIOSSLClientHandler {
        let name = Self.isIPAddress(host) ? nil : host
        guard let pinned = self.pinned else { return try NIOSSLClientHandler(context: self.context, serverHostname: name) }
        return try NIOSSLClientHandler(context: self.context, serverHostname: name) { certificates, promise in
            let leaf = certificates.first.flatMap { try? $0.toDERBytes() }
            promise.succeed(leaf == pinned ? .certificateVerified : .failed)
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || (host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." })
    }

    /// Runs one connection's work, turning a TLS failure of `tls` into a `TLSDialError` that says
    /// what went wrong; without TLS, or for any other error, the error as it is.
    static func explainingFailures<T>(of tls: TLSDialer?, host: String, port: Int, _ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error where TLSDialError.isTLS(error) {
            guard let tls else { throw error }
            throw TLSDialError(description: tls.describe(error, host: host, port: port))
        }
    }

    /// A dial error in words an operator can act on: an untrusted certificate or one for
    /// another name says so and where trust came from; anything else as it is.
    func describe(_ error: any Error, host: String, port: Int) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS: the certificate of \(host):\(port) is not trusted by \(self.trust) (certificate verify failed)"
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "TLS: the certificate of \(host):\(port) does not name \(host) (\(self.trust) trusts its issuer)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "TLS: \(host):\(port) does not speak TLS (a plain http port?)"
        }
        return "TLS with \(host):\(port) failed: \(text)"
    }
}

/// A TLS connection that could not be made, in words an operator can act on.
public struct TLSDialError: Error, Sendable, CustomStringConvertible {
    /// What failed, naming the peer and where trust came from.
    public let description: String

    /// Whether `error` came from TLS rather than from the network below it.
    static func isTLS(_ error: any Error) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError
    }
}

/// A TLS file that cannot be used: which setting named it, the file, and why.
public struct TLSSetupError: Error, Sendable, CustomStringConvertible {
    /// The setting or role of the file: `FPOOL_DAEMON_CA`, `--tls-cert`, ….
    public let source: String
    /// The file's path.
    public let file: String
    /// What is wrong with it.
    public let reason: String

    /// An error about `file`, named by `source`.
    public init(source: String, file: String, reason: String) {
        self.source = source
        self.file = file
        self.reason = reason
    }

    /// `<source> <file>: <reason>`.
    public var description: String { "\(self.source) \(self.file): \(self.reason)" }
}
