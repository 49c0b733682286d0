// The hand-decided starting values a freshly imported method gets; --base keeps later tuning.

import RouteModel

/// fpool's decisions about Lotus methods that the Lotus documents cannot express: which
/// methods return channels, which send messages (and where their sender is), which have
/// node-local side effects, and which deserve a policy other than the pool default. Each
/// decision carries its reasoning, written into the spec as comments above the method.
public enum ImportDefaults {
    /// The routing fields a method starts with, plus why.
    public struct Decision: Sendable {
        /// `push` for a method that sends a message, `write` for node-local writes and other methods above read
        /// permission, `read` otherwise (v1 multisig calls too: they only build a prototype).
        public var effect: Effect
        /// Where the sender (or channel) is in the params, for pushes and sender-scoped reads; nil for every
        /// other method, and for a push whose sender cannot be read without decoding a signature.
        public var seed: SeedLocator?
        /// `channel` for the methods in `channelMethods`, else `plain`.
        public var result: ResultKind
        /// `poolDefault`, except for the few methods that read better from one particular node.
        public var policy: PolicyChoice
        /// One line per decision that differs from the plain default, with its reason; written above the
        /// method in the spec (without the leading `# `). Empty when nothing was decided.
        public var comments: [String]
    }

    /// Methods that return a Go channel. The OpenRPC document omits them and the markdown
    /// shows only the element type, so this list is the source of truth for a fresh import.
    public static let channelMethods: Set<String> = [
        "ChainNotify", "MpoolSub", "SyncIncomingBlocks", "ChainExport", "SubscribeActorEventsRaw",
        "ClientGetDealUpdates", "ClientRetrieveWithEvents", "ClientDataTransferUpdates",
        "ClientGetRetrievalUpdates",
    ]

    /// Where the sender of each message-sending method is (JSON param positions, 0-based).
    static let pushSeeds: [String: (seed: String, why: String)] = [
        "MpoolPushMessage": ("p0.From", "the daemon assigns the nonce, signs and pushes: one daemon per sender keeps nonces in order"),
        "MpoolBatchPushMessage": ("p0[0].From", "assigns nonces and pushes each message; bound by the first message's sender"),
        "MpoolPush": (
            "p0.Message.From",
            "pushes an already signed message; a second identical push answers 'already in mpool', which the pool treats as success"
        ),
        "MpoolPushUntrusted": ("p0.Message.From", "as MpoolPush, with the daemon's untrusted-message checks"),
        "MpoolBatchPush": ("p0[0].Message.From", "pushes signed messages; bound by the first message's sender"),
        "MpoolBatchPushUntrusted": ("p0[0].Message.From", "as MpoolBatchPush, untrusted"),
        "MarketAddBalance": ("p0", "sends AddBalance from the wallet in param 0"),
        "MarketReserveFunds": ("p0", "may send AddBalance from the wallet in param 0"),
        "MarketWithdraw": ("p0", "sends WithdrawBalance from the wallet in param 0"),
        "PaychGet": ("p0", "may create or fund a channel with a message from param 0"),
        "PaychFund": ("p0", "funds a channel with a message from param 0"),
        "PaychNewPayment": ("p0", "may create or fund a channel with a message from param 0"),
        "PaychSettle": (
            "p0",
            "sends Settle from the channel's control wallet, which only the daemon knows; binding by the channel keeps one channel's messages on one node"
        ),
        "PaychCollect": ("p0", "sends Collect from the channel's control wallet; bound by the channel, as PaychSettle"),
        "PaychVoucherSubmit": ("p0", "sends UpdateChannelState from the channel's control wallet; bound by the channel, as PaychSettle"),
        "ClientStartDeal": ("p0.Wallet", "reserves market funds (a message) from the deal's wallet"),
        "ClientStatelessDeal": ("p0.Wallet", "reserves market funds (a message) from the deal's wallet"),
        // v0 multisig calls sign and push; their v1 namesakes only build a prototype (below).
        "MsigCreate": ("p4", "v0 sends the create message from param 4 (src)"),
        "MsigPropose": ("p3", "v0 sends the proposal from param 3 (src)"),
        "MsigApprove": ("p2", "v0 sends the approval from param 2 (src)"),
        "MsigApproveTxnHash": ("p5", "v0 sends the approval from param 5 (src)"),
        "MsigCancel": ("p4", "v0 sends the cancel from param 4 (src)"),
        "MsigCancelTxnHash": ("p4", "v0 sends the cancel from param 4 (src)"),
        "MsigAddPropose": ("p1", "v0 sends from param 1 (src)"),
        "MsigAddApprove": ("p1", "v0 sends from param 1 (src)"),
        "MsigAddCancel": ("p1", "v0 sends from param 1 (src)"),
        "MsigSwapPropose": ("p1", "v0 sends from param 1 (src)"),
        "MsigSwapApprove": ("p1", "v0 sends from param 1 (src)"),
        "MsigSwapCancel": ("p1", "v0 sends from param 1 (src)"),
        "MsigRemoveSigner": ("p1", "v0 sends from param 1 (proposer)"),
    ]

    /// Pushes whose sender cannot be read from the params without decoding a signature.
    static let seedlessPushes: [String: String] = [
        "EthSendRawTransaction":
            "pushes a signed eth transaction (perm read in Lotus); its sender is only recoverable from the RLP signature, so it follows PrimarySeed",
        "EthSendRawTransactionUntrusted": "as EthSendRawTransaction, untrusted",
    ]

    /// Read-permission methods that create node-local state a later call must find on the
    /// same node; never duplicated onto another node after sending.
    static let nodeLocalWrites: [String: String] = [
        "EthNewFilter": "creates a filter that lives only on the serving daemon",
        "EthNewBlockFilter": "creates a filter that lives only on the serving daemon",
        "EthNewPendingTransactionFilter": "creates a filter that lives only on the serving daemon",
        "EthUninstallFilter": "removes a daemon-local filter",
        "EthGetFilterChanges": "drains a daemon-local filter (changes since the last poll): another daemon does not know it",
        "EthGetFilterLogs": "reads a daemon-local filter: another daemon does not know it",
        "EthSubscribe": "opens a daemon-local subscription",
        "EthUnsubscribe": "closes a daemon-local subscription",
    ]

    /// Methods that read better from one particular node than from the seed's.
    static let policies: [String: (Policy, String)] = [
        "ChainHead": (.oneByChainHeadDesc, "the most advanced node's head, so a miner never mines or proves on a stale tipset"),
        "ChainNotify": (.oneByChainHeadDesc, "subscribe where the chain is freshest; the pool closes the channel if that node goes bad"),
    ]

    /// Sender-scoped reads answered best by the sender's own primary node.
    static let seededReads: [String: (seed: String, why: String)] = [
        "MpoolGetNonce": ("p0", "the sender's primary holds its pending messages, so its next nonce is authoritative")
    ]

    /// `abi.ChainEpoch` params that are counts or durations, not chain heights (JSON positions).
    /// Routing must not wait for a node to "reach" them, so they import as `Other` on every
    /// import: this is a fact about Lotus's signatures, not a tunable default.
    public static let epochsThatAreNotHeights: [String: [Int: String]] = [
        "StateSearchMsg": [2: "limit: how far back to look"],
        "StateWaitMsg": [2: "limit: how far back to look"],
        "StateAllMinerFaults": [0: "lookback: a number of epochs"],
        "MsigCreate": [2: "unlock duration"],
        "ChainExport": [0: "nroots: how many state roots to export"],
        "StateMinerInitialPledgeForSector": [0: "sector duration"],
        "EthGetBlockReceiptsLimited": [1: "limit: how far back to look"],
        "EthGetTransactionByHashLimited": [1: "limit: how far back to look"],
        "EthGetTransactionReceiptLimited": [1: "limit: how far back to look"],
    ]

    /// The decision for a method seen for the first time.
    ///
    /// - Parameters:
    ///   - responseExample: the markdown's response example, which tells a v1 multisig call
    ///     (it returns a MessagePrototype) from its v0 namesake (it sends and returns a CID).
    public static func decide(name: String, perm: Perm, responseExample: JSONValue?) -> Decision {
        var decision = Decision(
            effect: perm == .read ? .read : .write, seed: nil, result: .plain, policy: .poolDefault, comments: [])
        if Self.channelMethods.contains(name) {
            decision.result = .channel
            decision.comments.append("channel: returns a Go channel; values arrive as xrpc.ch.val")
        }
        if let (policy, why) = Self.policies[name] {
            decision.policy = .fixed(policy)
            decision.comments.append("policy \(policy.rawValue): \(why)")
        }
        if let push = Self.pushSeeds[name] {
            if name.hasPrefix("Msig"), responseExample?["ValidNonce"] != nil {
                decision.effect = .read
                decision.comments.append("read: returns an unsigned MessagePrototype; the client pushes it with MpoolPushMessage")
            } else {
                decision.effect = .push
                decision.seed = try? SeedLocator(specText: push.seed)
                decision.comments.append("push: \(push.why)")
            }
        } else if let why = Self.seedlessPushes[name] {
            decision.effect = .push
            decision.comments.append("push: \(why)")
        } else if let why = Self.nodeLocalWrites[name] {
            decision.effect = .write
            decision.comments.append("write: \(why)")
        } else if let read = Self.seededReads[name] {
            decision.seed = try? SeedLocator(specText: read.seed)
            decision.comments.append("seed \(read.seed): \(read.why)")
        } else if name == "WalletSignMessage" || name == "WalletSign" {
            decision.comments.append("write: signs without sending; another node's wallet may lack the key, so never retried elsewhere")
        }
        return decision
    }

    /// The category from the name prefix, with Lotus's CommonAPI members as `common`.
    /// Reads whose answer is fixed by their params but which are not cached: a "no" that may
    /// become a "yes" (ChainHasObj), searches whose "not found" a lagging node gives (StateSearchMsg,
    /// and v0's StateGetReceipt, which is StateSearchMsg from its key onwards), and computations
    /// that apply messages (StateCall, StateCompute: heavy, and their answers large).
    static let uncachedReads: Set<String> = [
        "ChainHasObj", "StateSearchMsg", "StateSearchMsgLimited", "StateGetReceipt", "StateCall", "StateCompute", "StateWaitMsg",
        "StateWaitMsgLimited", "StateReplay", "StateListMessages",
    ]

    /// The cache class proposed for a method (reviewed by hand, like every import default):
    /// `content` for a Chain read whose params are all CIDs and tipset keys, `tipset` for a State
    /// read fixed by a TipSetKey param, `none` otherwise.
    public static func proposedCache(name: String, params: ParamKinds, effect: Effect, result: ResultKind) -> CacheClass {
        guard effect == .read, result == .plain, !params.isEmpty, !Self.uncachedReads.contains(name) else { return .none }
        if name.hasPrefix("Chain"), params.allSatisfy({ $0 == .cid || $0 == .tipSetKey }) { return .content }
        if name.hasPrefix("State"), params.contains(.tipSetKey) { return .tipset }
        return .none
    }

    public static func category(of name: String) -> Category {
        let exceptions: [String: Category] = [
            "Web3ClientVersion": .eth, "FilecoinAddressToEthAddress": .eth,
            "GetActorEventsRaw": .actorevent, "SubscribeActorEventsRaw": .actorevent,
        ]
        if let category = exceptions[name] { return category }
        let prefixes: [(String, Category)] = [
            ("Chain", .chain), ("Beacon", .beacon), ("Gas", .gas), ("Sync", .sync), ("Mpool", .mpool),
            ("Wallet", .wallet), ("State", .state), ("Msig", .msig), ("Paych", .paych), ("Client", .client),
            ("Market", .market), ("Net", .net), ("Auth", .auth), ("Eth", .eth), ("F3", .f3), ("Miner", .miner),
            ("Log", .log), ("Node", .node),
        ]
        for (prefix, category) in prefixes where name.hasPrefix(prefix) {
            // "Chain" must not claim e.g. "Chainlink"; the next char starts a new word.
            let next = name.dropFirst(prefix.count).first
            if next == nil || next!.isUppercase || next!.isNumber { return category }
        }
        return .common
    }
}
