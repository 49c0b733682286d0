// The throwaway certificate authority of `fpool sim --tls` and `fpool demo --tls`: its CA
// certificate is written to a file of its own, which `FPOOL_DAEMON_CA` (and curl's --cacert)
// name, and removed when the command stops.

import Foundation
import LotusSim
import LotusWire

struct SimTLSFiles {
    let authority: SimCertificateAuthority
    /// The CA certificate's file.
    let caFile: String
    private let directory: String

    /// A new CA, its certificate written under the temporary directory.
    ///
    /// - Throws: `CLIError` when the certificate cannot be made or written.
    static func make() throws -> SimTLSFiles {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("fpool-sim-tls-\(getpid())")
        do {
            let authority = try SimCertificateAuthority()
            return SimTLSFiles(authority: authority, caFile: try authority.writeCertificate(to: directory), directory: directory)
        } catch {
            throw CLIError("--tls: cannot make the simulator's CA in \(directory): \(error)")
        }
    }

    /// A certificate for this host (localhost, 127.0.0.1, ::1) issued by the CA.
    ///
    /// - Throws: `CLIError` when it cannot be made.
    func identity() throws -> TLSServerIdentity {
        do {
            let issued = try self.authority.issue()
            return try TLSServerIdentity(certificatePEM: issued.certificatePEM, keyPEM: issued.keyPEM)
        } catch {
            throw CLIError("--tls: cannot issue a certificate: \(error)")
        }
    }

    /// Removes the CA file and its directory.
    func remove() {
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
