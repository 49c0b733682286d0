// One method's routing facts: what generated tables hold and what the runtime switches on.

/// Everything the pool needs to route one FullNode method, fixed at build time.
public struct RouteEntry: Sendable, Hashable {
    /// The method name without the `Filecoin.` prefix, e.g. `ChainHead`.
    public let name: String
    /// The method's group, which `fpool api types` lists by; routing ignores it.
    public let category: Category
    /// The permission a client token must hold (exactly, not a higher one) to call the method.
    public let perm: Perm
    /// The method's positional parameter kinds, which decide its retry tags.
    public let params: ParamKinds
    /// Whether the method answers once or opens a channel that streams values.
    public let result: ResultKind
    /// How a node is picked for the call: a fixed policy, or the pool's DefaultPolicy at call time.
    public let policy: PolicyChoice
    /// Which nodes may serve the method: all available ones, or only those marked sealing.
    public let filter: Filter
    /// Fail at once when no node is available (true), or wait for one (false).
    public let nohang: Bool
    /// The call timeout; zero means none.
    public let timeout: GoDuration
    /// What the call does to a daemon, which decides whether and where it may be retried.
    public let effect: Effect
    /// Where the sender is found, for calls bound to the sender's primary node.
    public let seed: SeedLocator?
    /// The Lotus release that dropped this method, for methods kept for older clients.
    public let removedIn: String?
    /// Whether a successful answer may be served again from the pool's cache.
    public let cache: CacheClass

    /// Builds an entry from its facts, as generated tables and the spec importer do; `wireName` is derived from `name`.
    /// Behind `@_spi(Generated)`: an embedder reads routes from the generated tables, and a route
    /// made by hand would bypass the spec and its checks.
    @_spi(Generated) public init(
        name: String, category: Category, perm: Perm, params: ParamKinds, result: ResultKind,
        policy: PolicyChoice, filter: Filter, nohang: Bool, timeout: GoDuration, effect: Effect,
        seed: SeedLocator?, removedIn: String?, cache: CacheClass = .none
    ) {
        self.name = name
        self.wireName = RouteEntry.wirePrefix + name
        self.category = category
        self.perm = perm
        self.params = params
        self.result = result
        self.policy = policy
        self.filter = filter
        self.nohang = nohang
        self.timeout = timeout
        self.effect = effect
        self.seed = seed
        self.removedIn = removedIn
        self.cache = cache
    }

    /// The name on the wire: `Filecoin.ChainHead` (kept, not joined per call: every call
    /// forwarded upstream writes it).
    public let wireName: String

    /// Derived from the params: which lag-class errors allow a retry on another node.
    public var retryTags: RetryTags { self.params.retryTags }

    /// The namespace every FullNode method name carries on the wire; route names are stored without it.
    public static let wirePrefix = "Filecoin."

    /// The route of a method that is in no table (PRODUCT.md §2): still forwarded, because the
    /// daemon decides whether it exists, but with the pool default policy, never retried once
    /// sent, and only for admin tokens.
    public static func unlisted(name: String) -> RouteEntry {
        RouteEntry(
            name: name, category: .common, perm: .admin, params: ParamKinds([]), result: .plain,
            policy: .poolDefault, filter: .all, nohang: false, timeout: .zero, effect: .write,
            seed: nil, removedIn: nil)
    }
}
