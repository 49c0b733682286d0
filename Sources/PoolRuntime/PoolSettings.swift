// The pool's hot-settable settings (PRODUCT.md §3.3), with validation that names valid values.

import RouteModel

/// Every pool-wide setting, as one value: readers take a snapshot, writers replace it whole.
public struct PoolSettings: Sendable, Hashable {
    /// The policy of every route whose own policy is `default`, read at call time (OneBySeedRound unless set).
    public var defaultPolicy: Policy = .oneBySeedRound
    /// Picks the primary node for calls without a sender (`PrimarySeed mod nodes`).
    public var primarySeed: UInt64 = 0
    /// Disable a node whose NodeStatus Behind exceeds this.
    public var maxSyncBehind: UInt64 = 2
    /// Disable a node whose NodeStatus PeersToPublishMsgs is below this; 0 turns the rule off.
    public var minMessagePeers: UInt64 = 1
    /// Disable a node whose NodeStatus PeersToPublishBlocks is below this; 0 turns the rule off.
    public var minBlockPeers: UInt64 = 1
    /// Disable a node whose head is more than this many epochs below the best head.
    public var maxBehindDiff: UInt64 = 2
    /// How often every node is probed (at least 100ms); also how long one probe may take before the node counts as
    /// not answering. A change ends the current wait at once.
    public var heartbeatInterval = GoDuration(milliseconds: 3_000)
    /// How long a call naming a tipset waits for some node to reach it (about one block time).
    public var tipsetWait = GoDuration(milliseconds: 30_000)
    /// How long a read waits for its node before the next one is asked too.
    public var hedgeDelay = HedgeSetting.auto
    /// A ChainNotify channel whose daemon sent nothing this long, while another node's head
    /// moved, is closed towards its client (1.5 block times of 30 s).
    public var channelSilence = GoDuration(milliseconds: 45_000)
    /// Bytes of successful answers the cache keeps (`cache=content|tipset` methods); 0 turns it off.
    public var cacheBytes: UInt64 = 64 << 20

    /// The defaults PRODUCT.md §3.3 lists, as the property initialisers above spell them.
    public init() {}

    /// The names `config get/set` and the environment use, in display order.
    public static let keys = [
        "DefaultPolicy", "PrimarySeed", "MaxSyncBehind", "MinMessagePeers", "MinBlockPeers", "MaxBehindDiff",
        "HeartbeatInterval", "TipsetWait", "HedgeDelay", "ChannelSilence", "CacheBytes",
    ]

    /// The current value of `key`, as `config get` prints it.
    public func value(of key: String) throws(SettingsError) -> String {
        switch key {
        case "DefaultPolicy": return self.defaultPolicy.rawValue
        case "PrimarySeed": return String(self.primarySeed)
        case "MaxSyncBehind": return String(self.maxSyncBehind)
        case "MinMessagePeers": return String(self.minMessagePeers)
        case "MinBlockPeers": return String(self.minBlockPeers)
        case "MaxBehindDiff": return String(self.maxBehindDiff)
        case "HeartbeatInterval": return self.heartbeatInterval.description
        case "TipsetWait": return self.tipsetWait.description
        case "HedgeDelay": return self.hedgeDelay.description
        case "ChannelSilence": return self.channelSilence.description
        case "CacheBytes": return String(self.cacheBytes)
        default: throw SettingsError.unknownKey(key)
        }
    }

    /// Every setting with its value, in display order.
    public var all: [(key: String, value: String)] {
        Self.keys.map { key in (key, (try? self.value(of: key)) ?? "") }
    }

    /// Sets `key` from its text form (`config set --key=… --val=…`, the environment).
    ///
    /// - Throws: `SettingsError` naming the key and the accepted values; nothing changes then.
    public mutating func set(_ key: String, to text: String) throws(SettingsError) {
        func count() throws(SettingsError) -> UInt64 {
            guard let value = UInt64(text) else { throw SettingsError.badValue(key: key, value: text, expected: "a whole number ≥ 0") }
            return value
        }
        func duration(minimum: UInt32) throws(SettingsError) -> GoDuration {
            guard let value = try? GoDuration(parsing: text), value.milliseconds >= minimum else {
                throw SettingsError.badValue(
                    key: key, value: text, expected: "a Go duration of at least \(GoDuration(milliseconds: minimum)), such as 3s or 500ms")
            }
            return value
        }
        switch key {
        case "DefaultPolicy":
            do {
                self.defaultPolicy = try Policy.parseAllowingAliases(text)
            } catch {
                throw SettingsError.badValue(
                    key: key, value: text, expected: "one of " + Policy.allCases.map(\.rawValue).joined(separator: ", "))
            }
        case "PrimarySeed": self.primarySeed = try count()
        case "MaxSyncBehind": self.maxSyncBehind = try count()
        case "MinMessagePeers": self.minMessagePeers = try count()
        case "MinBlockPeers": self.minBlockPeers = try count()
        case "MaxBehindDiff": self.maxBehindDiff = try count()
        case "HeartbeatInterval": self.heartbeatInterval = try duration(minimum: 100)
        case "TipsetWait": self.tipsetWait = try duration(minimum: 0)
        case "HedgeDelay":
            guard let setting = HedgeSetting(text: text) else {
                throw SettingsError.badValue(key: key, value: text, expected: HedgeSetting.expected)
            }
            self.hedgeDelay = setting
        case "ChannelSilence": self.channelSilence = try duration(minimum: 1_000)
        case "CacheBytes":
            // An address space's worth is a typo, not a cache.
            guard let value = UInt64(text), value <= 1 << 40 else {
                throw SettingsError.badValue(key: key, value: text, expected: "a number of bytes from 0 (off) to 1099511627776")
            }
            self.cacheBytes = value
        default: throw SettingsError.unknownKey(key)
        }
    }
}

/// A setting that does not exist or a value it cannot take.
///
/// A struct over a private enum: a new kind of refusal is not a breaking change for code that
/// switches on it, because none can.
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Sendable, Equatable {
        case unknownKey(String)
        case badValue(key: String, value: String, expected: String)
    }

    private let kind: Kind

    /// A key that names no setting.
    static func unknownKey(_ key: String) -> SettingsError { SettingsError(kind: .unknownKey(key)) }

    /// A value `key` cannot take, with what it accepts (`"true or false"`).
    static func badValue(key: String, value: String, expected: String) -> SettingsError {
        SettingsError(kind: .badValue(key: key, value: value, expected: expected))
    }

    /// The setting named: the unknown key itself, or the key whose value was refused.
    public var key: String {
        switch self.kind {
        case .unknownKey(let key), .badValue(let key, _, _): key
        }
    }

    /// True when the key names no setting; false when a real setting refused its value.
    public var isUnknownKey: Bool {
        if case .unknownKey = self.kind { return true }
        return false
    }

    /// One line naming the key and the bad value with what is accepted, or, for an unknown key, every valid key.
    public var description: String {
        switch self.kind {
        case .unknownKey(let key):
            "unknown setting '\(key)'; expected one of: \(PoolSettings.keys.joined(separator: ", "))"
        case .badValue(let key, let value, let expected):
            "\(key): '\(value)' is not valid; expected \(expected)"
        }
    }
}
