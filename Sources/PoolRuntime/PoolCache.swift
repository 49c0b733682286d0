// The pool's side of the result cache: which calls may be answered from it, the lookups, and
// what is kept. Only a daemon's successful answer is kept, never an error (a lagging node's
// "not found" is no answer), and only for calls whose answer is fixed by their params.

import GeneratedRoutes
import RouteModel

extension Pool {
    /// The cache key of a call whose answer is fixed (a `cache=` method, every tipset named),
    /// or nil. It names the pool's chain when the call began: once the pool has moved to another
    /// chain (`PoolNetwork.Change`), an answer of the chain it left is never served, nor kept
    /// though the call was routed before the cache was emptied.
    func cacheKey(_ call: PoolCall) -> CallKey? {
        guard let id = call.id, call.facts.fixedTipsets else { return nil }
        let route = id.route
        let (override, chain) = self.state.withLock { state in
            (state.overrides.isEmpty ? nil : state.overrides[route.name]?.cache, state.table.network.moves)
        }
        guard (override ?? route.cache) != .none else { return nil }
        return CallKey(route: id, params: call.params, chain: chain)
    }

    /// A kept answer for the call, as the node that gave it; counts a hit or a miss.
    func cachedReply(_ key: CallKey) -> PoolReply? {
        let found = self.cache.withLock { cache in
            let found = cache.value(for: key)
            cache.count(key.route, hit: found != nil)
            return found
        }
        return found.map { .result($0.bytes, node: $0.node) }
    }

    /// Keeps a successful answer, unless the pool's chain moved since the call began.
    func keep(_ reply: PoolReply, for key: CallKey) {
        guard case .result(let bytes, let node) = reply else { return }
        self.cache.withLock { cache in
            guard cache.chain == key.chain else { return }
            cache.insert(bytes, node: node, for: key)
        }
    }

    /// The cache's figures for `/metrics` and `fpool top`: hits and misses per method, evictions, bytes held.
    public var cacheFigures: CacheFigures {
        self.cache.withLock { cache in
            CacheFigures(
                hits: cache.hits.mapKeys(\.route.name), misses: cache.misses.mapKeys(\.route.name), evictions: cache.evictions,
                bytes: cache.bytes, entries: cache.count)
        }
    }

    /// `api why`'s cache line: the class in force and, for given params, what this call would do.
    func explainCache(_ id: RouteID, params: [UInt8]?, fixedTipsets: Bool) -> String {
        let route = id.route
        let cache = self.state.withLock { state in state.overrides.isEmpty ? nil : state.overrides[route.name]?.cache } ?? route.cache
        guard cache != .none else { return "none: every call asks a daemon" }
        let (capacity, held) = self.cache.withLock { ($0.capacity, $0.count) }
        guard capacity > 0 else { return "\(cache), but CacheBytes is 0: the cache is off" }
        guard let params else {
            return "\(cache): a successful answer is kept when every TipSetKey param names a tipset (\(held) answers held); "
                + "give --params to check a call"
        }
        guard fixedTipsets else { return "\(cache): this call names the head (an empty TipSetKey) or lacks a param: never cached" }
        let chain = self.state.withLock { $0.table.network.moves }
        let key = CallKey(route: id, params: params, chain: chain)
        return self.cache.withLock { $0.contains(key) }
            ? "\(cache): this call would be answered from the cache, no daemon asked"
            : "\(cache): this call would ask a daemon, and its successful answer would be kept"
    }
}

/// The result cache's counters, as one snapshot.
public struct CacheFigures: Sendable, Equatable {
    /// Calls answered from the cache, by method name.
    public let hits: [String: UInt64]
    /// Cacheable calls that had to ask a daemon, by method name.
    public let misses: [String: UInt64]
    /// Answers pushed out to make room.
    public let evictions: UInt64
    /// Bytes held (answers, params and bookkeeping).
    public let bytes: Int
    /// Answers held.
    public let entries: Int
}

extension Dictionary where Key == RouteID, Value == UInt64 {
    /// Counts by route name: a method's v0 and v1 forms add up.
    fileprivate func mapKeys(_ name: (RouteID) -> String) -> [String: UInt64] {
        self.reduce(into: [:]) { counts, entry in counts[name(entry.key), default: 0] += entry.value }
    }
}
