// Lotus API tokens: HS256 with `Allow` claims; anything else is refused.

import LotusWire
import Testing

@Suite struct LotusJWTTests {
    let secret: [UInt8] = Array("a 32-byte secret for the tests!!".utf8)

    @Test func signedTokensVerify() throws {
        let token = LotusJWT.sign(allow: ["read", "write"], secret: self.secret)
        #expect(token.split(separator: ".").count == 3)
        #expect(try LotusJWT.verify(token, secret: self.secret) == ["read", "write"])
    }

    @Test func lotusTokenFromTheSeedDocumentDecodes() throws {
        // The header and payload of the token in the seed's examples (signature is per daemon).
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

    @Test func bearerHeader() {
        #expect(LotusJWT.bearerToken("Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(LotusJWT.bearerToken("Basic xyz") == nil)
        #expect(LotusJWT.bearerToken(nil) == nil)
    }
}
