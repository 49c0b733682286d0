// Hot settings and the environment: defaults from the seed, clear errors, nothing half-applied.

import GeneratedRoutes
import PoolRuntime
import RouteModel
import Testing

@Suite struct PoolSettingsTests {
    @Test func defaultsAreTheSeeds() {
        let settings = PoolSettings()
        #expect(
            settings.all.map { "\($0.key)=\($0.value)" } == [
                "DefaultPolicy=OneBySeedRound", "PrimarySeed=0", "MaxSyncBehind=2", "MinMessagePeers=1", "MinBlockPeers=1",
                "MaxBehindDiff=2", "HeartbeatInterval=3s", "TipsetWait=30s", "HedgeDelay=auto", "ChannelSilence=45s",
                "CacheBytes=67108864",
            ])
    }

    @Test func setParsesEachKind() throws {
        var settings = PoolSettings()
        try settings.set("DefaultPolicy", to: "RoundRobin")
        try settings.set("MaxSyncBehind", to: "1")
        try settings.set("HeartbeatInterval", to: "500ms")
        #expect(settings.defaultPolicy == .oneByIdRound)
        #expect(settings.maxSyncBehind == 1)
        #expect(try settings.value(of: "HeartbeatInterval") == "500ms")
        try settings.set("HedgeDelay", to: "off")
        #expect(settings.hedgeDelay == .off)
        try settings.set("HedgeDelay", to: "120ms")
        #expect(try settings.value(of: "HedgeDelay") == "120ms")
        let badHedge = #expect(throws: SettingsError.self) { try settings.set("HedgeDelay", to: "soon") }
        #expect(badHedge?.description == "HedgeDelay: 'soon' is not valid; expected off, auto, or a Go duration above 0 such as 150ms")
    }

    @Test func typosNameTheValidChoices() {
        var settings = PoolSettings()
        let key = #expect(throws: SettingsError.self) { try settings.set("MaxSyncBehindd", to: "1") }
        #expect(key?.isUnknownKey == true && key?.key == "MaxSyncBehindd")
        #expect(
            key?.description
                == "unknown setting 'MaxSyncBehindd'; expected one of: DefaultPolicy, PrimarySeed, MaxSyncBehind, MinMessagePeers, MinBlockPeers, MaxBehindDiff, HeartbeatInterval, TipsetWait, HedgeDelay, ChannelSilence, CacheBytes"
        )
        let value = #expect(throws: SettingsError.self) { try settings.set("MinBlockPeers", to: "-1") }
        #expect(value?.isUnknownKey == false && value?.key == "MinBlockPeers")
        #expect(value?.description == "MinBlockPeers: '-1' is not valid; expected a whole number ≥ 0")
        let policy = #expect(throws: SettingsError.self) { try settings.set("DefaultPolicy", to: "Fastest") }
        #expect(
            policy?.description.hasPrefix("DefaultPolicy: 'Fastest' is not valid; expected one of OneByIndexAsc, OneByIndexDesc") == true)
        #expect(throws: SettingsError.self) { try settings.set("HeartbeatInterval", to: "1ms") }
        #expect(settings == PoolSettings())
    }

    @Test func apirtConfigAppliesAllOrNothing() throws {
        var override = APIRouteOverride(route: RouteEntry.unlisted(name: "ChainNotify"))
        try override.apply(apirtConfig: "OneByIdRound,false,0s")
        #expect(override.policy == .fixed(.oneByIdRound))
        let before = override
        #expect(throws: SettingsError.self) { try override.apply(apirtConfig: "OneByIndexAsc,maybe,0s") }
        #expect(override == before)
        #expect(throws: SettingsError.self) { try override.apply(apirtConfig: "OneByIndexAsc,false") }
    }
}

/// `api set --key=policy --val=default` returns an API to the policy its spec compiled, not to
/// the pool's DefaultPolicy: ChainHead goes back to the freshest node.
@Test func policyDefaultReturnsToTheCompiledPolicy() throws {
    var head = APIRouteOverride(route: V1Method.chainHead.route)
    try head.set("policy", to: "OneByIdRound")
    #expect(head.policy == .fixed(.oneByIdRound))
    try head.set("policy", to: "default")
    #expect(head.policy == .fixed(.oneByChainHeadDesc))
    var actor = APIRouteOverride(route: V1Method.stateGetActor.route)
    try actor.set("policy", to: "OneByIndexAsc")
    try actor.set("policy", to: "default")
    #expect(actor.policy == .poolDefault)
}

@Suite struct PoolEnvironmentTests {
    static let token = APIInfoTests.token

    @Test func theSeedsExampleEnvironment() throws {
        let environment = try PoolEnvironment.load([
            "FULLNODE_API_POOL_INFO":
                "\(Self.token):/ip4/192.168.2.205/tcp/1234/http:daemon_01,\(Self.token):/ip4/192.168.2.206/tcp/1234/http:daemon_02",
            "FULLNODE_API_INFO": "\(Self.token):/ip4/192.168.2.100/tcp/1234/http",
            "FPOOL_PRIMARY_SEED": "1", "FPOOL_MAX_SYNC_BEHIND": "1",
            "ChainNotify_APIRT_CONFIG": "OneByIdRound,false,0s", "ChainGetBlock_APIRT_CONFIG": "OneByIndexAsc,false,0s",
        ])
        #expect(environment.nodes.map(\.name) == ["daemon_01", "daemon_02", "192.168.2.100"])
        #expect(environment.settings.primarySeed == 1)
        #expect(environment.settings.maxSyncBehind == 1)
        #expect(environment.apiOverrides["ChainNotify"]?.policy == .fixed(.oneByIdRound))
        #expect(environment.apiOverrides["ChainGetBlock"]?.policy == .fixed(.oneByIndexAsc))
        #expect(environment.usePool)
    }

    @Test func legacyNodeAlreadyInThePoolIsNotAddedTwice() throws {
        let entry = "\(Self.token):/ip4/10.0.0.1/tcp/1234/http"
        let environment = try PoolEnvironment.load(["FULLNODE_API_POOL_INFO": entry + ":a", "FULLNODE_API_INFO": entry])
        #expect(environment.nodes.count == 1)
    }

    /// The legacy daemon written with or without `/http` is the same daemon as the pool's.
    @Test func legacyNodeWrittenOtherwiseIsNotAddedTwice() throws {
        let environment = try PoolEnvironment.load([
            "FULLNODE_API_POOL_INFO": "\(Self.token):/ip4/10.0.0.1/tcp/1234/http:a",
            "FULLNODE_API_INFO": "\(Self.token):/ip4/10.0.0.1/tcp/1234",
        ])
        #expect(environment.nodes.map(\.name) == ["a"])
    }

    /// Daemons left unnamed on one host get `host:port` names, so `node set` can tell them
    /// apart; two daemons an operator named alike are refused.
    @Test func everyNodeHasANameOfItsOwn() throws {
        let environment = try PoolEnvironment.load([
            "FULLNODE_API_POOL_INFO":
                "\(Self.token):/ip4/127.0.0.1/tcp/1234/http,\(Self.token):/ip4/127.0.0.1/tcp/1235/http,\(Self.token):/ip4/10.0.0.9/tcp/1234/http"
        ])
        #expect(environment.nodes.map(\.name) == ["127.0.0.1:1234", "127.0.0.1:1235", "10.0.0.9"])
        let error = #expect(throws: EnvironmentError.self) {
            try PoolEnvironment.load([
                "FULLNODE_API_POOL_INFO": "\(Self.token):/ip4/10.0.0.1/tcp/1234/http:lotus,\(Self.token):/ip4/10.0.0.2/tcp/1234/http:lotus"
            ])
        }
        #expect(
            error?.problems == [
                "FULLNODE_API_POOL_INFO: two or more daemons are named 'lotus'; give each its own name (token:multiaddr:name)"
            ])
    }

    /// As `api set` refuses it: a policy on a push would silently not apply (it goes to its
    /// sender's bound node); its timeout and nohang still may be set.
    @Test func apirtConfigRefusesAPolicyOnAPush() throws {
        let entry = "\(Self.token):/ip4/10.0.0.1/tcp/1234/http:a"
        let error = #expect(throws: EnvironmentError.self) {
            try PoolEnvironment.load(["FULLNODE_API_POOL_INFO": entry, "MpoolPushMessage_APIRT_CONFIG": "OneByIdRound,false,0s"])
        }
        #expect(error?.problems.first?.hasPrefix("MpoolPushMessage_APIRT_CONFIG: MpoolPushMessage pushes messages") == true)
        let environment = try PoolEnvironment.load(["FULLNODE_API_POOL_INFO": entry, "MpoolPushMessage_APIRT_CONFIG": "default,true,30s"])
        #expect(environment.apiOverrides["MpoolPushMessage"]?.timeout.description == "30s")
    }

    /// The seed broadcasts pushes with AllWithFirstSucceed: an already signed message may go to
    /// every daemon; a message each daemon would sign with a nonce of its own stops start-up.
    @Test func apirtConfigBroadcastsOnlyAlreadySignedPushes() throws {
        let entry = "\(Self.token):/ip4/10.0.0.1/tcp/1234/http:a"
        let error = #expect(throws: EnvironmentError.self) {
            try PoolEnvironment.load([
                "FULLNODE_API_POOL_INFO": entry, "MpoolPushMessage_APIRT_CONFIG": "AllWithFirstSucceed,false,0s",
            ])
        }
        #expect(
            error?.problems.first?.hasPrefix(
                "MpoolPushMessage_APIRT_CONFIG: MpoolPushMessage cannot take AllWithFirstSucceed: each daemon would pick a nonce and sign")
                == true)
        let environment = try PoolEnvironment.load([
            "FULLNODE_API_POOL_INFO": entry, "MpoolPush_APIRT_CONFIG": "AllWithFirstSucceed,false,0s",
            "MpoolBatchPush_APIRT_CONFIG": "AllWithFirstSucceed,false,0s",
        ])
        #expect(environment.apiOverrides["MpoolPush"]?.policy == .fixed(.allWithFirstSucceed))
        #expect(environment.apiOverrides["MpoolBatchPush"]?.policy == .fixed(.allWithFirstSucceed))
    }

    @Test func passThroughUsesOnlyTheLegacyNode() throws {
        let environment = try PoolEnvironment.load([
            "FULLNODE_API_POOL_INFO": "\(Self.token):/ip4/10.0.0.2/tcp/1234/http:b",
            "FULLNODE_API_INFO": "\(Self.token):/ip4/10.0.0.1/tcp/1234/http", "FULLNODE_API_USE_POOL": "false",
        ])
        #expect(!environment.usePool)
        #expect(environment.nodes.map(\.address.host) == ["10.0.0.1"])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let error = #expect(throws: EnvironmentError.self) {
            try PoolEnvironment.load([
                "FULLNODE_API_POOL_INFO": "\(Self.token):/ip4/10.0.0.2/tcp/x/http:b",
                "FPOOL_MIN_MESSAGE_PEERS": "many",
                "ChainHed_APIRT_CONFIG": "OneByIdRound,false,0s",
                "FULLNODE_API_USE_POOL": "perhaps",
            ])
        }
        #expect(
            error?.problems == [
                "FULLNODE_API_POOL_INFO entry 1 (<token>:/ip4/10.0.0.2/tcp/x/http:b): bad multiaddr '/ip4/10.0.0.2/tcp/x/http': bad port 'x'; expected 1…65535",
                "FULLNODE_API_USE_POOL: 'perhaps' is not valid; expected true or false",
                "FPOOL_MIN_MESSAGE_PEERS: MinMessagePeers: 'many' is not valid; expected a whole number ≥ 0",
                "ChainHed_APIRT_CONFIG: unknown API 'ChainHed'; did you mean ChainHead?",
            ])
        #expect(error?.description.contains(Self.token) == false)
    }

    /// The README promises every bad entry: three bad daemons among good ones are three
    /// problems, each naming its entry, none showing a token.
    @Test func everyBadDaemonEntryIsAProblemOfItsOwn() {
        let good = "\(Self.token):/ip4/10.0.0.1/tcp/1234/http:good"
        let error = #expect(throws: EnvironmentError.self) {
            try PoolEnvironment.load([
                "FULLNODE_API_POOL_INFO": [
                    "\(Self.token):/ip4/10.0.0.2/tcp/x/http:b", good, "\(Self.token):/ip9/10.0.0.3/tcp/1234/http:c",
                    "\(Self.token):/ip4/10.0.0.4/tcp/1234/http:", "\(Self.token):/ip4/10.0.0.5/tcp/1234/http:ok",
                ].joined(separator: ","),
                "FPOOL_MIN_MESSAGE_PEERS": "many",
            ])
        }
        let problems = error?.problems ?? []
        #expect(problems.count == 4, "\(problems)")
        #expect(
            problems.prefix(3).map { $0.prefix(while: { $0 != "(" }) } == [
                "FULLNODE_API_POOL_INFO entry 1 ", "FULLNODE_API_POOL_INFO entry 3 ", "FULLNODE_API_POOL_INFO entry 4 ",
            ])
        #expect(problems[1].contains("(<token>:/ip9/10.0.0.3/tcp/1234/http:c)"))
        #expect(problems[2].hasSuffix("empty name after the multiaddr"))
        #expect(problems.last?.hasPrefix("FPOOL_MIN_MESSAGE_PEERS") == true)
        #expect(error?.description.contains(Self.token) == false)
    }

    @Test func noDaemonsIsAnError() {
        let error = #expect(throws: EnvironmentError.self) { try PoolEnvironment.load([:]) }
        #expect(error?.problems.first?.hasPrefix("no daemons configured") == true)
    }
}
