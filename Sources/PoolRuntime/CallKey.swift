// What a read asks, as the result cache and the read flights know it: the route (API version
// and method) and the params' exact bytes. A key is hashed on every read, and hashing an array
// byte by byte costs several times more than hashing its bytes at once.

import GeneratedRoutes

/// A read's identity: two calls with equal keys get the same answer from a daemon at one moment.
struct CallKey: Hashable, Sendable {
    let route: RouteID
    let params: [UInt8]

    func hash(into hasher: inout Hasher) {
        hasher.combine(self.route)
        // The params' bytes in one piece (with their count, as an array's own hash does).
        hasher.combine(self.params.count)
        self.params.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
