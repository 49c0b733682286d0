// Lotus API tokens: HS256 with `Allow` claims; anything else is refused.

import Foundation
import LotusWire
import Testing

@Suite struct LotusJWTTests {
    let secret: [UInt8] = Array("a 32-byte secret for the tests!!".utf8)

    @Test func signedTokensVerify() throws {
        let token = LotusJWT.sign(allow: ["read", "write"], secret: self.secret)
        #expect(token.split(separator: ".").count == 3)
        #expect(try LotusJWT.verify(token, secret: self.secret) == ["read", "write"])
    }

    /// fpool's seed claim rides beside `Allow`: Lotus decodes the payload into a struct with only
    /// `Allow`, so a seeded token means the same to a daemon as an unseeded one.
    @Test func aSeededTokenKeepsLotusPermissionsAndCarriesItsSeed() throws {
        let token = LotusJWT.sign(allow: ["read", "write"], seed: "f01000", secret: self.secret)
        #expect(try LotusJWT.claims(of: token, secret: self.secret) == LotusJWT.Claims(allow: ["read", "write"], seed: "f01000"))
        #expect(try LotusJWT.verify(token, secret: self.secret) == ["read", "write"])
        let part = String(token.split(separator: ".")[1])
        let payload = try #require(Data(base64Encoded: part + String(repeating: "=", count: (4 - part.count % 4) % 4)))
        #expect(String(decoding: payload, as: UTF8.self) == #"{"Allow":["read","write"],"FPoolSeed":"f01000"}"#)
        #expect(try LotusJWT.claims(of: LotusJWT.sign(allow: ["read"], secret: self.secret), secret: self.secret).seed == nil)
    }

    @Test func seedDocumentTokenFailsWithAnotherSecret() throws {
        // The seed's example token is well-formed; it was signed with another daemon's secret.
        let token =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJyZWFkIiwid3JpdGUiLCJzaWduIiwiYWRtaW4iXX0.Xov5mHGev5g67tp0KWWjmiYwJeb-0Qv5goY8OXn8shg"
        let error = #expect(throws: LotusJWT.VerificationError.self) { try LotusJWT.verify(token, secret: self.secret) }
        #expect(error == .badSignature)
    }

    @Test func tamperedOrForeignTokensFail() {
        let token = LotusJWT.sign(allow: ["read"], secret: self.secret)
        #expect(throws: LotusJWT.VerificationError.badSignature) { try LotusJWT.verify(token, secret: Array("another secret".utf8)) }
        var parts = token.split(separator: ".").map(String.init)
        parts[1] = LotusJWT.sign(allow: ["admin"], secret: self.secret).split(separator: ".").map(String.init)[1]
        #expect(throws: LotusJWT.VerificationError.badSignature) { try LotusJWT.verify(parts.joined(separator: "."), secret: self.secret) }
        #expect(throws: LotusJWT.VerificationError.malformed) { try LotusJWT.verify("not-a-token", secret: self.secret) }
    }

    @Test func forgedHeadersCannotCrashVerification() {
        // The header is parsed before the signature is checked: a broken surrogate must not trap.
        let header = Self.base64URL(#"{"alg":"\ud800\u0041"}"#)
        #expect(throws: LotusJWT.VerificationError.self) { try LotusJWT.verify(header + ".e30.c2ln", secret: self.secret) }
    }

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test func bearerHeader() {
        #expect(LotusJWT.bearerToken("Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(LotusJWT.bearerToken("Basic xyz") == nil)
        #expect(LotusJWT.bearerToken(nil) == nil)
    }
}
