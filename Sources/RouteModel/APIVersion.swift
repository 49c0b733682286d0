// The Lotus FullNode API versions fpool serves (`/rpc/v0`, `/rpc/v1`).

/// A FullNode API version; the raw value is the path segment and the spec's `api` word.
public enum APIVersion: String, SpecWord, Hashable, Comparable {
    case v0, v1

    /// What parse errors call this field, as in "unknown api version 'v2'; expected one of: v0, v1".
    public static let fieldName = "api version"

    /// Orders by raw value, so `v0` sorts before `v1`.
    public static func < (lhs: APIVersion, rhs: APIVersion) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
