// Lotus API tokens: HS256 JWTs whose claims are `{"Allow":["read","write",…]}`, and fpool's
// one extra claim, `FPoolSeed`, which a Lotus daemon or client ignores (its decoder reads only
// `Allow`).

import Crypto
import Foundation

/// Creates and verifies Lotus API tokens with a daemon's (or the pool's) secret.
public enum LotusJWT {
    /// Why a token was refused: `malformed` (not three base64url parts, or a payload without an `Allow`
    /// array), `unsupportedAlgorithm` (a header that does not say HS256), or `badSignature` (another secret's).
    public enum VerificationError: Error, Sendable, Equatable {
        case malformed
        case unsupportedAlgorithm
        case badSignature
    }

    /// What a verified token says.
    public struct Claims: Sendable, Equatable {
        /// The permissions it grants, as written (`read`, `write`, `sign`, `admin`).
        public let allow: [String]
        /// fpool's `FPoolSeed` claim: the miner whose primary daemon the token's calls prefer.
        public let seed: String?

        /// Claims as a token would carry them.
        public init(allow: [String], seed: String? = nil) {
            self.allow = allow
            self.seed = seed
        }
    }

    /// The name of fpool's seed claim.
    public static let seedClaim = "FPoolSeed"

    /// A token allowing `permissions`, signed with `secret`; `seed` adds fpool's seed claim.
    public static func sign(allow permissions: [String], seed: String? = nil, secret: [UInt8]) -> String {
        let header = base64URL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        var claims: [(String, JSON)] = [("Allow", .array(permissions.map(JSON.string)))]
        if let seed { claims.append((Self.seedClaim, .string(seed))) }
        let payload = base64URL(JSON.object(claims).encoded())
        let signingInput = header + "." + payload
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: secret))
        return signingInput + "." + base64URL(Array(mac))
    }

    /// The permissions a token grants.
    ///
    /// - Throws: `VerificationError` for anything but a well-formed HS256 token signed with `secret`.
    public static func verify(_ token: String, secret: [UInt8]) throws(VerificationError) -> [String] {
        try self.claims(of: token, secret: secret).allow
    }

    /// Everything a token says: its permissions and fpool's seed claim.
    ///
    /// - Throws: `VerificationError` for anything but a well-formed HS256 token signed with `secret`.
    public static func claims(of token: String, secret: [UInt8]) throws(VerificationError) -> Claims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = decodeBase64URL(parts[0]), let payloadBytes = decodeBase64URL(parts[1]),
            let signature = decodeBase64URL(parts[2])
        else { throw .malformed }
        guard let header = try? JSON.parse(headerBytes), header["alg"]?.string == "HS256" else { throw .unsupportedAlgorithm }
        let signingInput = Array((parts[0] + "." + parts[1]).utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: SymmetricKey(data: secret)) else {
            throw .badSignature
        }
        guard let payload = try? JSON.parse(payloadBytes), let allow = payload["Allow"]?.array else { throw .malformed }
        return Claims(allow: allow.compactMap(\.string), seed: payload[Self.seedClaim]?.string)
    }

    /// The token of an `Authorization: Bearer <token>` header value, if that is its form.
    public static func bearerToken(_ header: String?) -> String? {
        guard let header, header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}
