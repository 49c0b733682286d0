// Whether a method answers once or opens a go-jsonrpc channel.

/// `plain` results answer once; `channel` results (ChainNotify, MpoolSub, …) stream values
/// with `xrpc.ch.val` until one side closes them.
public enum ResultKind: String, SpecWord, Hashable {
    case plain, channel

    public static let fieldName = "result"
}
