// Per-API settings an operator changes at runtime or sets with `<Api>_APIRT_CONFIG`.

import RouteModel

/// The tunable part of one API's route: policy, nohang, timeout, filter, hedge, cache.
public struct APIRouteOverride: Sendable, Hashable {
    /// How a node is picked for the API's calls; `poolDefault` follows the pool's DefaultPolicy at call time.
    public var policy: PolicyChoice
    /// Fail a call at once when no node can serve it (true), or wait for one (false).
    public var nohang: Bool
    /// The longest a call may take; zero means no timeout.
    public var timeout: GoDuration
    /// Which nodes may serve the API: all, or only those marked sealing.
    public var filter: Filter
    /// Reads only: nil follows the pool's HedgeDelay.
    public var hedge: HedgeSetting?
    /// Whether successful answers are cached (`none`, `content`, `tipset`).
    public var cache: CacheClass

    /// The route's generated settings, unchanged, with `hedge` nil (following the pool's HedgeDelay).
    public init(route: RouteEntry) {
        self.policy = route.policy
        self.nohang = route.nohang
        self.timeout = route.timeout
        self.filter = route.filter
        self.compiledPolicy = route.policy
        self.cache = route.cache
        self.compiledCache = route.cache
    }

    /// The cache class the spec compiled for this API, which `cache=default` returns to.
    public let compiledCache: CacheClass

    /// The policy the spec compiled for this API, which `policy=default` returns to (ChainHead's
    /// OneByChainHeadDesc, not the pool's DefaultPolicy).
    public let compiledPolicy: PolicyChoice

    /// The keys `api set --key=…` takes.
    public static let keys = ["policy", "nohang", "timeout", "filter", "hedge", "cache"]

    /// Applies `api set --key=<key> --val=<value>`.
    ///
    /// - Throws: `SettingsError` naming the key and the accepted values.
    public mutating func set(_ key: String, to text: String) throws(SettingsError) {
        switch key {
        case "policy":
            do {
                let choice = try PolicyChoice(specWord: text)
                self.policy = choice == .poolDefault ? self.compiledPolicy : choice
            } catch {
                throw SettingsError.badValue(key: key, value: text, expected: "one of " + error.valid.joined(separator: ", "))
            }
        case "nohang":
            guard let value = Bool(text) else { throw SettingsError.badValue(key: key, value: text, expected: "true or false") }
            self.nohang = value
        case "timeout":
            guard let value = try? GoDuration(parsing: text) else {
                throw SettingsError.badValue(key: key, value: text, expected: "a Go duration such as 0s, 500ms, 30s")
            }
            self.timeout = value
        case "filter":
            guard let value = Filter(rawValue: text) else {
                throw SettingsError.badValue(key: key, value: text, expected: "all or sealing")
            }
            self.filter = value
        case "hedge":
            if text == "default" {
                self.hedge = nil
            } else {
                guard let value = HedgeSetting(text: text) else {
                    throw SettingsError.badValue(
                        key: key, value: text, expected: HedgeSetting.expected + ", or default (the pool's HedgeDelay)")
                }
                self.hedge = value
            }
        case "cache":
            if text == "default" {
                self.cache = self.compiledCache
            } else {
                guard let value = CacheClass(rawValue: text) else {
                    throw SettingsError.badValue(key: key, value: text, expected: "none, content, tipset, or default (the spec's)")
                }
                self.cache = value
            }
        default:
            throw SettingsError.badValue(key: "key", value: key, expected: "one of " + Self.keys.joined(separator: ", "))
        }
    }

    /// Applies the seed's `Policy,NoHang,Timeout` form (`OneByIdRound,false,0s`).
    public mutating func apply(apirtConfig text: String) throws(SettingsError) {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmedSpaces }
        guard fields.count == 3 else {
            throw SettingsError.badValue(key: "APIRT_CONFIG", value: text, expected: "Policy,NoHang,Timeout such as OneByIdRound,false,0s")
        }
        var updated = self
        try updated.set("policy", to: fields[0])
        try updated.set("nohang", to: fields[1])
        try updated.set("timeout", to: fields[2])
        self = updated
    }
}
