// Requests after which daemons closed their connection: one such drop is retried on another
// node, a second fails the call and keeps the identical request away from every daemon for a
// while, so one request can never take every daemon connection down.

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

/// Drops per request and the requests refused for now.
struct RequestQuarantine: Sendable {
    /// Drops a request may cause before it is refused: the first node's and one other's.
    static let dropsAllowed = 1
    /// How long a quarantined request is refused, and how long a drop is remembered.
    static let period: Duration = .seconds(60)
    /// Requests remembered at most (the oldest forgotten first): bounded whatever clients send.
    static let capacity = 1024

    private struct Entry {
        var drops: Int
        var lastDrop: Duration
        var refusedUntil: Duration?
    }

    private var entries: [RequestKey: Entry] = [:]

    /// A daemon closed its connection after this request was sent. True when the request is
    /// now quarantined (the call must fail rather than go to yet another daemon).
    mutating func dropped(_ key: RequestKey, at now: Duration) -> Bool {
        self.forgetExpired(at: now)
        var entry = self.entries[key] ?? Entry(drops: 0, lastDrop: now)
        entry.drops += 1
        entry.lastDrop = now
        if entry.drops > Self.dropsAllowed { entry.refusedUntil = now + Self.period }
        if self.entries[key] == nil, self.entries.count >= Self.capacity,
            let oldest = self.entries.min(by: { $0.value.lastDrop < $1.value.lastDrop })
        {
            self.entries[oldest.key] = nil
        }
        self.entries[key] = entry
        return entry.refusedUntil != nil
    }

    /// Whether the request is refused now.
    func isQuarantined(_ key: RequestKey, at now: Duration) -> Bool {
        guard !self.entries.isEmpty, let until = self.entries[key]?.refusedUntil else { return false }
        return now < until
    }

    var count: Int { self.entries.count }

    private mutating func forgetExpired(at now: Duration) {
        guard self.entries.count >= Self.capacity / 2 else { return }
        self.entries = self.entries.filter { now - $0.value.lastDrop < Self.period || ($0.value.refusedUntil.map { now < $0 } ?? false) }
    }
}
