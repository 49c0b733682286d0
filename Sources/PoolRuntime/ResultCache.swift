// Successful answers of cacheable calls (`cache=content|tipset` in the spec), bounded in bytes.
// Eviction is segmented LRU: a new answer enters a probation segment and moves to a protected
// one (80 % of the bytes) when asked for again, so a scan of answers asked for once passes
// through probation without pushing out the working set a miner's loops ask for repeatedly.

import GeneratedRoutes

/// A byte-bounded segmented LRU of result bytes. Not synchronised: the pool holds it in a lock of its own.
struct ResultCache: Sendable {
    private struct Slot: Sendable {
        var key: CallKey
        var value: [UInt8]
        var node: Int
        var protected: Bool
        var previous: Int
        var next: Int
    }

    /// A slot list's ends; -1 when empty. `head` is the most recently used.
    private struct List: Sendable {
        var head = -1
        var tail = -1
        var bytes = 0
    }

    /// What an entry holds beyond its key's and its answer's bytes, counted at the most its
    /// containers may reserve for it, so the bound holds in memory and not only in the count:
    /// its slot (the slot array may reserve twice what it uses), its dictionary entry (a key, a
    /// position and a bucket, at three quarters' load before the table doubles), and two heap
    /// arrays' headers and the allocator's rounding.
    static let overhead =
        2 * MemoryLayout<Slot>.stride + 3 * (MemoryLayout<CallKey>.stride + MemoryLayout<Int>.stride) + 2 * Self.arrayOverhead
    /// A Swift array's heap header, plus malloc's own header and rounding.
    static let arrayOverhead = 64
    private(set) var capacity: Int
    private var slots: [Slot] = []
    private var free: [Int] = []
    private var index: [CallKey: Int] = [:]
    private var probation = List()
    private var protected = List()
    /// Answers pushed out to make room, since the pool started.
    private(set) var evictions: UInt64 = 0
    /// Lookups that found an answer, and that did not, by route.
    private(set) var hits: [RouteID: UInt64] = [:]
    private(set) var misses: [RouteID: UInt64] = [:]

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Bytes held: keys, answers and bookkeeping.
    var bytes: Int { self.probation.bytes + self.protected.bytes }
    var count: Int { self.index.count }

    /// The answer and the node that gave it, marking it used.
    mutating func value(for key: CallKey) -> (bytes: [UInt8], node: Int)? {
        guard let slot = self.index[key] else { return nil }
        if self.slots[slot].protected {
            self.unlink(slot)
            self.pushFront(slot)
        } else {
            // Asked for again: part of the working set.
            self.unlink(slot)
            self.slots[slot].protected = true
            self.pushFront(slot)
            self.shrinkProtected()
        }
        return (self.slots[slot].value, self.slots[slot].node)
    }

    mutating func count(_ route: RouteID, hit: Bool) {
        if hit { self.hits[route, default: 0] += 1 } else { self.misses[route, default: 0] += 1 }
    }

    /// Whether `key` is held, without marking it used (`api why`).
    func contains(_ key: CallKey) -> Bool { self.index[key] != nil }

    /// Keeps `value`; an answer larger than an eighth of the capacity is not kept (one huge
    /// answer would push out everything else).
    mutating func insert(_ value: [UInt8], node: Int, for key: CallKey) {
        let cost = Self.cost(key, value)
        guard cost <= self.capacity / 8 else { return }
        if let existing = self.index[key] {
            self.remove(existing)
        }
        let slot = Slot(key: key, value: value, node: node, protected: false, previous: -1, next: -1)
        let position: Int
        if let reused = self.free.popLast() {
            self.slots[reused] = slot
            position = reused
        } else {
            self.slots.append(slot)
            position = self.slots.count - 1
        }
        self.index[key] = position
        self.pushFront(position)
        self.evict(toFit: self.capacity)
        // Many small answers pushed out by a few large ones leave free slots nothing counts.
        if self.free.count > Self.compactionSlack, self.free.count > 3 * self.index.count { self.compact() }
    }

    /// Free slots kept before the containers are rebuilt smaller (a few kilobytes).
    static let compactionSlack = 256

    /// A new byte bound (`CacheBytes`); 0 empties the cache and keeps nothing. What the
    /// containers reserved for entries that are gone is given back.
    mutating func resize(_ capacity: Int) {
        self.capacity = max(0, capacity)
        self.evict(toFit: self.capacity)
        self.compact()
    }

    /// The pool's chain the answers held are of (`PoolNetwork.moves`): an answer of another
    /// (its key's `chain`) is not kept.
    private(set) var chain = 0

    /// Drops every answer: the pool moved to `chain`, whose daemons would not give them. The
    /// bound and the counters are kept; nothing is counted as evicted.
    mutating func removeAll(movingTo chain: Int) {
        self.chain = max(self.chain, chain)
        self.slots = []
        self.free = []
        self.index = [:]
        self.probation = List()
        self.protected = List()
    }

    /// Slots the slot array holds room for (the live entries and the free ones).
    var reservedSlots: Int { self.slots.capacity }
    /// Entries the dictionary has room for before it grows.
    var reservedEntries: Int { self.index.capacity }

    /// Rebuilds the containers to the live entries' size, each list in its order: the slot
    /// array and the dictionary never shrink by themselves, so a lowered bound (or 0, the cache
    /// turned off) would otherwise keep the memory of the largest the cache has been.
    private mutating func compact() {
        guard self.free.count > self.index.count else { return }
        var rebuilt = ResultCache(capacity: self.capacity)
        rebuilt.evictions = self.evictions
        rebuilt.chain = self.chain
        rebuilt.hits = self.hits
        rebuilt.misses = self.misses
        rebuilt.slots.reserveCapacity(self.index.count)
        rebuilt.index.reserveCapacity(self.index.count)
        // From each list's least recently used end, so each arrives at its head in the same order.
        for start in [self.protected.tail, self.probation.tail] {
            var slot = start
            while slot >= 0 {
                var moved = self.slots[slot]
                slot = moved.previous
                (moved.previous, moved.next) = (-1, -1)
                rebuilt.slots.append(moved)
                rebuilt.index[moved.key] = rebuilt.slots.count - 1
                rebuilt.pushFront(rebuilt.slots.count - 1)
            }
        }
        self = rebuilt
    }

    static func cost(_ key: CallKey, _ value: [UInt8]) -> Int {
        key.params.count + value.count + Self.overhead
    }

    /// Evicts from probation's tail first, then protected's, until `limit` bytes remain.
    private mutating func evict(toFit limit: Int) {
        while self.bytes > limit {
            let victim = self.probation.tail >= 0 ? self.probation.tail : self.protected.tail
            guard victim >= 0 else { return }
            self.remove(victim)
            self.evictions += 1
        }
    }

    /// Demotes protected's least recently used answers to probation while protected holds more than 80 %.
    private mutating func shrinkProtected() {
        let limit = self.capacity / 5 * 4
        while self.protected.bytes > limit, self.protected.tail >= 0 {
            let demoted = self.protected.tail
            self.unlink(demoted)
            self.slots[demoted].protected = false
            self.pushFront(demoted)
        }
    }

    private mutating func remove(_ slot: Int) {
        self.unlink(slot)
        self.index[self.slots[slot].key] = nil
        self.slots[slot].value = []
        self.slots[slot].key = CallKey(route: self.slots[slot].key.route, params: [])
        self.free.append(slot)
    }

    private mutating func pushFront(_ slot: Int) {
        let cost = Self.cost(self.slots[slot].key, self.slots[slot].value)
        let isProtected = self.slots[slot].protected
        var list = isProtected ? self.protected : self.probation
        self.slots[slot].previous = -1
        self.slots[slot].next = list.head
        if list.head >= 0 { self.slots[list.head].previous = slot }
        list.head = slot
        if list.tail < 0 { list.tail = slot }
        list.bytes += cost
        if isProtected { self.protected = list } else { self.probation = list }
    }

    private mutating func unlink(_ slot: Int) {
        let cost = Self.cost(self.slots[slot].key, self.slots[slot].value)
        let isProtected = self.slots[slot].protected
        var list = isProtected ? self.protected : self.probation
        let (previous, next) = (self.slots[slot].previous, self.slots[slot].next)
        if previous >= 0 { self.slots[previous].next = next } else { list.head = next }
        if next >= 0 { self.slots[next].previous = previous } else { list.tail = previous }
        self.slots[slot].previous = -1
        self.slots[slot].next = -1
        list.bytes -= cost
        if isProtected { self.protected = list } else { self.probation = list }
    }
}
