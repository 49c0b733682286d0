// Requests after which daemons closed their connection: a call that met one such drop is
// retried on one other node; a second fails it, and a large request is then kept away from
// every daemon for a while, so one request can never take every daemon connection down.

/// Identical requests (API version, method and param bytes), by a 64-bit hash.
struct RequestKey: Hashable, Sendable {
    let value: UInt64

    init(_ call: PoolCall) {
        // FNV-1a over the version, the method and the params: no allocation on the call path.
        var hash: UInt64 = 14_695_981_039_346_656_037
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        call.version.rawValue.utf8.forEach(mix)
        mix(0)
        call.method.utf8.forEach(mix)
        mix(0)
        call.params.forEach(mix)
        self.value = hash
    }
}

/// Requests refused for now.
struct RequestQuarantine: Sendable {
    /// Drops one call may meet: its first node's and one other's; a second fails the call.
    static let dropsAllowed = 1
    /// Only a request this large is quarantined after a call met two drops: the queries of
    /// death seen are large, while a small common request (ChainHead) that happened to be sent
    /// last on two sockets of dying daemons must never be refused to every client.
    static let minimumBytes = 64 << 10
    /// How long a quarantined request is refused.
    static let period: Duration = .seconds(60)
    /// Requests remembered at most (the soonest to expire forgotten first).
    static let capacity = 1024

    private var refusedUntil: [RequestKey: Duration] = [:]
    /// When the last quarantine ends: until then calls look their request up.
    private var activeUntil: Duration = .zero

    /// Refuses `key` until `period` from `now`.
    mutating func quarantine(_ key: RequestKey, at now: Duration) {
        if self.refusedUntil.count >= Self.capacity {
            self.refusedUntil = self.refusedUntil.filter { now < $0.value }
            if self.refusedUntil.count >= Self.capacity, let soonest = self.refusedUntil.min(by: { $0.value < $1.value }) {
                self.refusedUntil[soonest.key] = nil
            }
        }
        self.refusedUntil[key] = now + Self.period
        self.activeUntil = now + Self.period
    }

    /// Whether any request is refused now (expired entries are forgotten only later, so the
    /// call path must not look at the count).
    func isActive(at now: Duration) -> Bool { now < self.activeUntil }

    /// Whether the request is refused now.
    func isQuarantined(_ key: RequestKey, at now: Duration) -> Bool {
        guard let until = self.refusedUntil[key] else { return false }
        return now < until
    }

    var count: Int { self.refusedUntil.count }
}
