// Who may call what: Lotus's HS256 tokens signed with fpool's own secret, and the exact
// permission match Lotus applies (a token lists every permission it grants).

import LotusWire
import PoolRuntime
import RouteModel
import Synchronization

/// What a client's token grants: its permissions, and the miner seed (`FPoolSeed`) whose primary daemon its
/// OneBySeedRound calls prefer; nil without one (the pool's PrimarySeed applies).
public struct ClientGrant: Sendable, Equatable {
    /// The permissions the token lists.
    public let permissions: Set<Perm>
    /// The token's seed, read as `MinerSeed`; a token whose seed claim is not one is refused.
    public let seed: MinerSeed?

    /// A grant; `ClientAuth` makes them from verified tokens.
    public init(permissions: Set<Perm>, seed: MinerSeed? = nil) {
        self.permissions = permissions
        self.seed = seed
    }

    /// What a request without a token gets, as from Lotus: read.
    public static let anonymous = ClientGrant(permissions: [.read])
}

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

    /// The grant of a request's `Authorization` header: `read` without one, nil for a token
    /// fpool did not sign or whose seed claim is no miner seed (refused with 401, which go-jsonrpc
    /// reports as "bad handshake").
    public func grant(authorization header: String?) -> ClientGrant? {
        guard let header else { return .anonymous }
        if let known = self.verified.lookup(header) { return known }
        guard let token = LotusJWT.bearerToken(header), let claims = try? LotusJWT.claims(of: token, secret: self.secret) else {
            return nil
        }
        var seed: MinerSeed?
        if let text = claims.seed {
            guard let parsed = MinerSeed(text) else { return nil }
            seed = parsed
        }
        let grant = ClientGrant(permissions: Set(claims.allow.compactMap(Perm.init(rawValue:))), seed: seed)
        // Only good tokens are remembered: a flood of bad ones cannot push them out.
        self.verified.remember(header, grant)
        return grant
    }

    /// A token granting `perm` and every permission below it, as `lotus auth create-token` does;
    /// with `seed`, its calls prefer that miner's primary daemon.
    public func token(upTo perm: Perm, seed: MinerSeed? = nil) -> String {
        LotusJWT.sign(allow: Self.grants(upTo: perm).map(\.rawValue), seed: seed?.text, secret: self.secret)
    }

    /// `read` < `write` < `sign` < `admin`.
    public static func grants(upTo perm: Perm) -> [Perm] {
        let order: [Perm] = [.read, .write, .sign, .admin]
        return Array(order.prefix(through: order.firstIndex(of: perm) ?? 0))
    }
}

/// Headers already verified, with their grants; bounded, emptied when full.
final class VerifiedTokens: Sendable {
    static let capacity = 1024
    private let entries = Mutex<[String: ClientGrant]>([:])

    func lookup(_ header: String) -> ClientGrant? { self.entries.withLock { $0[header] } }

    func remember(_ header: String, _ grant: ClientGrant) {
        self.entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[header] = grant
        }
    }
}
