// Which nodes may serve a route.

/// `all` nodes, or only those an operator marked `sealing`.
public enum Filter: String, SpecWord, Hashable {
    case all, sealing

    public static let fieldName = "filter"
}
