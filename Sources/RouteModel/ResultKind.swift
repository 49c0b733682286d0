// Whether a method answers once or opens a go-jsonrpc channel.

/// `plain` results answer once; `channel` results (ChainNotify, MpoolSub, …) stream values
/// with `xrpc.ch.val` until one side closes them.
public enum ResultKind: String, SpecWord, Hashable {
    case plain, channel

    /// What parse errors call this field when a spec's `result` word is unknown.
    public static let fieldName = "result"
}
