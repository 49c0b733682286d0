// The method groups `fpool api types` lists; derived from the method name on import.

/// A FullNode method's group. Most follow the name prefix (`ChainHead` → chain); the few
/// without one (Session, Version, Shutdown, …) are `common`, as Lotus's CommonAPI groups them.
public enum Category: String, SpecWord, Hashable {
    case chain, beacon, gas, sync, mpool, wallet, state, msig, paych, client, market, net, auth
    case common, eth, f3, miner, log, node, actorevent

    /// What parse errors call this field when a spec's `category` word is unknown.
    public static let fieldName = "category"
}
