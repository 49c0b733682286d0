// The client channels the pool serves, by pool channel id.

/// Open client channels. A value: the pool mutates it under its lock and closes what it
/// removes outside the lock.
struct ChannelTable: Sendable {
    private(set) var records: [Int: PoolChannelRecord] = [:]
    private var nextID = 1

    /// Registers a channel under a new id (`make` builds its record with that id).
    mutating func register(_ make: (Int) -> PoolChannelRecord) -> Int {
        let id = self.nextID
        self.nextID += 1
        self.records[id] = make(id)
        return id
    }

    /// Puts back a channel carried over to a new subscription, under its old id.
    mutating func reinstate(_ record: PoolChannelRecord) {
        self.records[record.id] = record
    }

    mutating func remove(_ id: Int) -> PoolChannelRecord? {
        self.records.removeValue(forKey: id)
    }

    /// Removes and returns every channel `lost` says can no longer be served.
    mutating func removeAll(where lost: (PoolChannelRecord) -> Bool) -> [PoolChannelRecord] {
        let removed = self.records.values.filter(lost)
        for channel in removed { self.records[channel.id] = nil }
        return removed
    }

    /// Open channels by node index.
    var countsByNode: [Int: Int] {
        self.records.values.reduce(into: [:]) { $0[$1.node, default: 0] += 1 }
    }
}
