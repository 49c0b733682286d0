// Which nodes may serve a route.

/// `all` nodes, or only those an operator marked `sealing`.
public enum Filter: String, SpecWord, Hashable {
    case all, sealing

    /// What parse errors call this field when a spec's `filter` word is unknown.
    public static let fieldName = "filter"
}
