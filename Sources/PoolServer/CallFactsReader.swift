// Decodes, from a request's raw params, only the values routing needs: the push sender its
// route's seed locator names, the epoch of an Epoch param, and MpoolPush's signed message.

import LotusWire
import PoolRuntime
import RouteModel

/// Reads what routing needs from a request's raw params (public: a proxy embedding the pool
/// builds its `PoolCall`s with it).
public enum CallFactsReader {
    /// The facts of one call whose JSON params array is `params` (the `params` member of a
    /// JSON-RPC request, as sent). Params of another shape give no fact: the daemon then
    /// answers the malformed call itself.
    public static func facts(route: RouteEntry, params: [UInt8]) -> CallFacts {
        self.facts(route: route, bytes: params, params: params.indices)
    }

    /// The facts of one call; params that do not have the expected shape give no fact (the
    /// daemon then answers the malformed call itself).
    static func facts(route: RouteEntry, bytes: [UInt8], params: Range<Int>?) -> CallFacts {
        let epochPosition = route.params.position(of: .epoch)
        let pushesSigned = route.effect == .push && route.params.first == .signedMessage
        // Any plain read with params may be made cacheable (`api set --key=cache`).
        let cacheable = route.effect == .read && route.result == .plain && !route.params.isEmpty
        guard route.seed != nil || epochPosition != nil || pushesSigned || cacheable, let params else { return CallFacts() }
        // One walk over the params, each element read as it passes: no array of them to build.
        var facts = CallFacts()
        var position = 0
        var keysNameTipsets = true
        let walked: Void? = try? RawJSON.forEachElement(of: bytes, in: params) { element in
            defer { position += 1 }
            // An empty key (`[]`, `null`, or only nulls: `[null]`) means "the head": that answer
            // moves with the chain.
            if cacheable, position < route.params.count, route.params[position] == .tipSetKey, !RawJSON.hasNonNullElement(bytes, element) {
                keysNameTipsets = false
            }
            if let seed = route.seed, seed.param == position {
                facts.sender = self.follow(seed.path, in: bytes, from: element).flatMap { RawJSON.decodeString(bytes, $0) }
            }
            if position == epochPosition { facts.height = RawJSON.decodeInt(bytes, element) }
            if pushesSigned, position == 0 { facts.signedMessage = self.signedMessage(Array(bytes[element])) }
        }
        guard walked != nil else { return CallFacts() }
        if cacheable, position == route.params.count { facts.fixedTipsets = keysNameTipsets }
        return facts
    }

    /// Walks `.Field` and `[index]` steps from a value.
    static func follow(_ path: [SeedLocator.Step], in bytes: [UInt8], from start: Range<Int>) -> Range<Int>? {
        var current = start
        for step in path {
            switch step {
            case .field(let name):
                guard let next = RawJSON.member(name, of: bytes, in: current) else { return nil }
                current = next
            case .index(let index):
                guard let items = try? RawJSON.elements(of: bytes, in: current), index < items.count else { return nil }
                current = items[index]
            }
        }
        return current
    }

    /// A signed message's nonce and CID (Lotus's JSON carries its `CID`); nil without them,
    /// in which case the pool cannot re-push it on a failover.
    static func signedMessage(_ json: [UInt8]) -> SignedMessageFacts? {
        let whole = 0..<json.count
        guard let message = RawJSON.member("Message", of: json, in: whole),
            let nonce = RawJSON.member("Nonce", of: json, in: message).flatMap({ RawJSON.decodeInt(json, $0) }), nonce >= 0,
            let cidObject = RawJSON.member("CID", of: json, in: whole),
            let cid = RawJSON.member("/", of: json, in: cidObject).flatMap({ RawJSON.decodeString(json, $0) })
        else { return nil }
        return SignedMessageFacts(nonce: UInt64(nonce), cid: cid, json: json)
    }
}
