// Lotus API permissions, as its `perm:` tags and JWT `Allow` claims spell them.

/// A Lotus permission. Lotus matches them exactly as listed in a token (an `admin`-only
/// token may not call `read` methods), so they are a set, not a ladder.
public enum Perm: String, SpecWord, Hashable {
    case read, write, sign, admin

    /// What parse errors call this field when a spec's `perm` word is unknown.
    public static let fieldName = "perm"
}
