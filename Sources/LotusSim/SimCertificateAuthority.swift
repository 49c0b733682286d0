// A throwaway certificate authority for `fpool sim --tls` and `fpool demo --tls`: one CA and
// certificates it issues for this host (localhost, 127.0.0.1, ::1), so the whole TLS path can
// be tried on one machine. P-256 keys; valid from an hour ago for 30 days.

import Crypto
import Foundation
import SwiftASN1
import X509

/// A CA made on the spot. Concurrency: immutable.
public struct SimCertificateAuthority: Sendable {
    /// The CA certificate in PEM: what clients trust (`FPOOL_DAEMON_CA`).
    public let certificatePEM: String
    /// The CA's P-256 key, raw: swift-crypto's key type is not Sendable.
    private let keyBytes: [UInt8]
    private let name: DistinguishedName

    /// A new CA named `commonName`.
    ///
    /// - Throws: when the certificate cannot be built (it can always be, barring a bug).
    public init(commonName: String = "fpool simulator CA") throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 30 * 86400, issuer: name, subject: name,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            }, issuerPrivateKey: .init(key))
        self.certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        self.keyBytes = Array(key.rawRepresentation)
        self.name = name
    }

    /// This host's loopback addresses, as certificates carry them: 127.0.0.1 and ::1.
    public static let loopback: [[UInt8]] = [[127, 0, 0, 1], [UInt8](repeating: 0, count: 15) + [1]]

    /// A server certificate signed by this CA, and its private key, both in PEM: by default for
    /// this host (localhost, 127.0.0.1, ::1); `dnsNames` and `ipAddresses` name other hosts.
    ///
    /// - Throws: when the certificate cannot be built.
    public func issue(
        commonName: String = "localhost", dnsNames: [String] = ["localhost"], ipAddresses: [[UInt8]] = SimCertificateAuthority.loopback
    ) throws -> (certificatePEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let issuerKey = try P256.Signing.PrivateKey(rawRepresentation: self.keyBytes)
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 30 * 86400, issuer: self.name,
            subject: try DistinguishedName { CommonName(commonName) },
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(
                    dnsNames.map { GeneralName.dnsName($0) }
                        + ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) })
            }, issuerPrivateKey: .init(issuerKey))
        return (try certificate.serializeAsPEM().pemString + "\n", key.pemRepresentation + "\n")
    }

    /// Writes the CA certificate to `directory`/`fileName` (made if missing) and returns its path.
    ///
    /// - Throws: the file system's error.
    public func writeCertificate(to directory: String, fileName: String = "fpool-sim-ca.pem") throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(fileName)
        try Data(self.certificatePEM.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
