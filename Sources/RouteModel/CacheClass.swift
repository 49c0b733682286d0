// Whether a method's successful answer may be kept and served again without asking a daemon.

/// A method's cache class, from the spec's `cache=` field (absent: `none`).
public enum CacheClass: String, SpecWord, Hashable {
    /// Never cached: node-local state, writes, pushes, channels, anything unsure.
    case none
    /// The answer is a function of content-addressed params only (CIDs, tipset keys): cacheable
    /// forever once found.
    case content
    /// A state read at a given tipset: cacheable when every TipSetKey param names one (an empty
    /// key means "the head", which moves).
    case tipset

    /// What parse errors call this field when a spec's `cache` word is unknown.
    public static let fieldName = "cache"
}
