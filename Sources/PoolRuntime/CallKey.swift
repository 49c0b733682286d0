// What a read asks, as the result cache and the read flights know it: the route (API version
// and method), the params' exact bytes and, for a read whose answer is fixed, the pool's chain.
// A read's key is hashed up to three times (its flight is looked up, stored and removed), so the
// params' bytes are hashed once, when it is made, and in one piece: hashing an array byte by
// byte costs several times more.

import GeneratedRoutes

/// A read's identity: two calls with equal keys get the same answer from a daemon at one moment.
struct CallKey: Hashable, Sendable {
    let route: RouteID
    let params: [UInt8]
    let chain: Int
    /// The route and params hashed with the process's seed (as every `Hasher` is).
    private let digest: Int

    /// `chain`: the pool's `PoolNetwork.moves` for a call whose answer is fixed, so a call
    /// begun after the pool moved to another chain never shares one begun before.
    init(route: RouteID, params: [UInt8], chain: Int = 0) {
        self.route = route
        self.params = params
        self.chain = chain
        var hasher = Hasher()
        hasher.combine(route)
        hasher.combine(chain)
        // With the count, as an array's own hash does.
        hasher.combine(params.count)
        params.withUnsafeBytes { hasher.combine(bytes: $0) }
        self.digest = hasher.finalize()
    }

    static func == (left: CallKey, right: CallKey) -> Bool {
        left.digest == right.digest && left.route == right.route && left.chain == right.chain && left.params == right.params
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(self.digest)
    }
}
