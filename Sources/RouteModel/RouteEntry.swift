// One method's routing facts: what generated tables hold and what the runtime switches on.

/// Everything the pool needs to route one FullNode method, fixed at build time.
public struct RouteEntry: Sendable, Hashable {
    /// The method name without the `Filecoin.` prefix, e.g. `ChainHead`.
    public let name: String
    public let category: Category
    public let perm: Perm
    public let params: ParamKinds
    public let result: ResultKind
    public let policy: PolicyChoice
    public let filter: Filter
    /// Fail at once when no node is available (true), or wait for one (false).
    public let nohang: Bool
    /// The call timeout; zero means none.
    public let timeout: GoDuration
    public let effect: Effect
    /// Where the sender is found, for calls bound to the sender's primary node.
    public let seed: SeedLocator?
    /// The Lotus release that dropped this method, for methods kept for older clients.
    public let removedIn: String?

    public init(
        name: String, category: Category, perm: Perm, params: ParamKinds, result: ResultKind,
        policy: PolicyChoice, filter: Filter, nohang: Bool, timeout: GoDuration, effect: Effect,
        seed: SeedLocator?, removedIn: String?
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
    }

    /// The name on the wire: `Filecoin.ChainHead` (kept, not joined per call: every call
    /// forwarded upstream writes it).
    public let wireName: String

    /// Derived from the params: which lag-class errors allow a retry on another node.
    public var retryTags: RetryTags { self.params.retryTags }

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
