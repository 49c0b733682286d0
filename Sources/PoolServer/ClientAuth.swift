// Who may call what: Lotus's HS256 tokens signed with fpool's own secret, and the exact
// permission match Lotus applies (a token lists every permission it grants).

import LotusWire
import RouteModel
import Synchronization

/// Verifies client tokens and issues new ones.
public struct ClientAuth: Sendable {
    let secret: [UInt8]
    /// Verified tokens: an HTTP client sends the same token with every call, and checking an
    /// HMAC and two JSON documents each time cost more than routing the call.
    let verified = VerifiedTokens()

    /// Verifies and signs with `secret`, the HS256 key from the repo's `jwt-secret` (`FPoolRepo.loadOrCreateSecret`);
    /// tokens signed with another key are refused.
    public init(secret: [UInt8]) {
        self.secret = secret
    }

    /// The permissions of a request's `Authorization` header: `read` without one, nil for a
    /// token fpool did not sign (refused with 401, which go-jsonrpc reports as "bad handshake").
    public func permissions(authorization header: String?) -> Set<Perm>? {
        guard let header else { return [.read] }
        if let known = self.verified.lookup(header) { return known }
        let permissions = LotusJWT.bearerToken(header).flatMap { try? LotusJWT.verify($0, secret: self.secret) }.map {
            Set($0.compactMap(Perm.init(rawValue:)))
        }
        // Only good tokens are remembered: a flood of bad ones cannot push them out.
        if let permissions { self.verified.remember(header, permissions) }
        return permissions
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

/// Headers already verified, with their permissions; bounded, emptied when full.
final class VerifiedTokens: Sendable {
    static let capacity = 1024
    private let entries = Mutex<[String: Set<Perm>]>([:])

    func lookup(_ header: String) -> Set<Perm>? { self.entries.withLock { $0[header] } }

    func remember(_ header: String, _ permissions: Set<Perm>) {
        self.entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[header] = permissions
        }
    }
}
