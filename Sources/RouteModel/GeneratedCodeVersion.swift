// Lets generated route tables check, at compile time, that they match this RouteModel.

/// Generated code references `RouteModelCompatibility.version1`; a RouteModel that changes the
/// shape of `RouteEntry` renames this symbol, so stale generated code fails to compile with a
/// message naming it instead of misrouting at run time.
/// Behind `@_spi(Generated)`: only generated code has a use for it.
@_spi(Generated) public enum RouteModelCompatibility {
    /// The symbol generated route tables read; its value is never used, only that it exists.
    public static let version1 = 1
}
