// Who may call what: Lotus's HS256 tokens signed with fpool's own secret, and the exact
// permission match Lotus applies (a token lists every permission it grants).

import LotusWire
import RouteModel

/// Verifies client tokens and issues new ones.
public struct ClientAuth: Sendable {
    let secret: [UInt8]

    public init(secret: [UInt8]) {
        self.secret = secret
    }

    /// The permissions of a request's `Authorization` header: `read` without one, nil for a
    /// token fpool did not sign (refused with 401, which go-jsonrpc reports as "bad handshake").
    public func permissions(authorization header: String?) -> Set<Perm>? {
        guard let header else { return [.read] }
        guard let token = LotusJWT.bearerToken(header), let allowed = try? LotusJWT.verify(token, secret: self.secret) else { return nil }
        return Set(allowed.compactMap(Perm.init(rawValue:)))
    }

    /// A token granting `perm` and every permission below it, as `lotus auth create-token` does.
    public func token(upTo perm: Perm) -> String {
        LotusJWT.sign(allow: Self.grants(upTo: perm).map(\.rawValue), secret: self.secret)
    }

    /// `read` < `write` < `sign` < `admin`.
    public static func grants(upTo perm: Perm) -> [Perm] {
        let order: [Perm] = [.read, .write, .sign, .admin]
        return Array(order.prefix(through: order.firstIndex(of: perm) ?? 0))
    }
}
