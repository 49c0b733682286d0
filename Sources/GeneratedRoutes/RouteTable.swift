// Version-independent access to the generated route tables (Routes_v0/v1.swift, built by
// RouteTablePlugin from api-spec/). Also the one hand-written file SwiftPM needs here.

import RouteModel

/// A method of either API version, as the runtime dispatches on it.
public enum RouteID: Sendable, Hashable {
    case v0(V0Method)
    case v1(V1Method)

    /// The method's routing facts.
    public var route: RouteEntry {
        switch self {
        case .v0(let method): method.route
        case .v1(let method): method.route
        }
    }

    /// The API version whose table the method belongs to, i.e. which of `/rpc/v0` and `/rpc/v1` it was called on.
    public var version: APIVersion {
        switch self {
        case .v0: .v0
        case .v1: .v1
        }
    }

    /// The method's index in its version's table (for per-method counters).
    public var index: Int {
        switch self {
        case .v0(let method): Int(method.rawValue)
        case .v1(let method): Int(method.rawValue)
        }
    }
}

/// Lookups across both generated tables.
public enum RouteTable {
    /// Every entry of `version`, in table order.
    public static func entries(_ version: APIVersion) -> [RouteEntry] {
        switch version {
        case .v0: V0Routes.entries
        case .v1: V1Routes.entries
        }
    }

    /// The Lotus release `version`'s table was imported from.
    public static func lotusRelease(_ version: APIVersion) -> String {
        switch version {
        case .v0: V0Routes.lotusRelease
        case .v1: V1Routes.lotusRelease
        }
    }

    /// Finds a method from the raw bytes of the JSON `method` string (`Filecoin.ChainHead`).
    public static func lookup(_ version: APIVersion, wireName: UnsafeRawBufferPointer) -> RouteID? {
        switch version {
        case .v0: V0Routes.method(wireName: wireName).map(RouteID.v0)
        case .v1: V1Routes.method(wireName: wireName).map(RouteID.v1)
        }
    }

    /// Finds a method by name without the prefix (`ChainHead`), for CLI and admin input.
    public static func lookup(_ version: APIVersion, name: String) -> RouteID? {
        switch version {
        case .v0: V0Method(name: name).map(RouteID.v0)
        case .v1: V1Method(name: name).map(RouteID.v1)
        }
    }
}
