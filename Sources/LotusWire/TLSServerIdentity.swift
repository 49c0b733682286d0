// TLS for what fpool serves (its clients' endpoint; simulated daemons with --tls): a
// certificate chain and its private key, in PEM, over swift-nio-ssl.

import Foundation
import NIOCore
import NIOSSL

/// A server's certificate and key. Concurrency: immutable; one context serves every connection.
public struct TLSServerIdentity: Sendable {
    let context: NIOSSLContext
    /// The leaf certificate in PEM, which the pool copies to its repo for its own CLI to pin.
    public let certificatePEM: String

    /// Loads the PEM certificate chain (leaf first) and private key files; `certificateSource`
    /// and `keySource` name them for errors (`--tls-cert`, `FPOOL_TLS_KEY`, …).
    ///
    /// - Throws: `TLSSetupError` naming the file that cannot be used.
    public init(certificateFile: String, keyFile: String, certificateSource: String, keySource: String) throws(TLSSetupError) {
        let certificatePEM: [UInt8]
        let keyPEM: [UInt8]
        do {
            certificatePEM = try Self.read(certificateFile)
        } catch {
            throw TLSSetupError(source: certificateSource, file: certificateFile, reason: "cannot be read (\(error))")
        }
        do {
            keyPEM = try Self.read(keyFile)
        } catch {
            throw TLSSetupError(source: keySource, file: keyFile, reason: "cannot be read (\(error))")
        }
        try self.init(
            certificatePEM: certificatePEM, keyPEM: keyPEM, certificateSource: (certificateSource, certificateFile),
            keySource: (keySource, keyFile))
    }

    /// An identity from PEM text held in memory (the simulator's generated certificates).
    ///
    /// - Throws: `TLSSetupError` when either is not usable PEM.
    public init(certificatePEM: String, keyPEM: String) throws(TLSSetupError) {
        try self.init(
            certificatePEM: Array(certificatePEM.utf8), keyPEM: Array(keyPEM.utf8), certificateSource: ("certificate", "(generated)"),
            keySource: ("key", "(generated)"))
    }

    private init(
        certificatePEM: [UInt8], keyPEM: [UInt8], certificateSource: (String, String), keySource: (String, String)
    ) throws(TLSSetupError) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(certificatePEM)
        } catch {
            throw TLSSetupError(source: certificateSource.0, file: certificateSource.1, reason: "is not a PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else {
            throw TLSSetupError(source: certificateSource.0, file: certificateSource.1, reason: "holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem)
        } catch {
            throw TLSSetupError(source: keySource.0, file: keySource.1, reason: "is not a PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        do {
            self.context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(
                source: keySource.0, file: keySource.1, reason: "does not match the certificate \(certificateSource.1) (\(error))")
        }
        let leaf = (try? chain[0].toDERBytes()) ?? []
        self.certificatePEM = Self.pem(der: leaf)
    }

    /// The handler that serves a connection's TLS, first in its pipeline.
    public func handler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: self.context)
    }

    /// Adds TLS in front of an accepted connection's pipeline.
    public func secure(_ channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(self.handler(), position: .first)
    }

    static func read(_ path: String) throws -> [UInt8] {
        // A certificate chain and key are a few kilobytes; a huge file is a mistake.
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= 1 << 20 else { throw TLSFileError(text: "larger than 1 MiB: not a certificate or key") }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func pem(der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines = ["-----BEGIN CERTIFICATE-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END CERTIFICATE-----")
        return lines.joined(separator: "\n") + "\n"
    }
}

struct TLSFileError: Error, CustomStringConvertible {
    let text: String
    var description: String { self.text }
}
