// The values a simulated chain is made of: blocks, tipsets, actors and their states, the
// fixtures every network starts with.

/// A block header's routing-relevant facts; the rest of its JSON is derived from these.
struct SimBlock: Sendable, Equatable {
    let cid: String
    let miner: String
    let height: Int64
    let parents: [String]
    let parentWeight: UInt64
    let timestamp: UInt64
}

/// One tipset and the messages its first block carries.
struct SimTipSet: Sendable, Equatable {
    let height: Int64
    let blocks: [SimBlock]
    let messages: [SimSignedMessage]
    var cids: [String] { self.blocks.map(\.cid) }
    var timestamp: UInt64 { self.blocks[0].timestamp }
}

/// An actor's identity: its ID address, its key address (accounts), its code, its birth.
struct SimActorRecord: Sendable, Equatable {
    let id: String
    let key: String?
    let code: String
    /// The first height whose state has it. A reorg can lower it: the new branch may include the
    /// message that created the actor lower than the orphaned branch did (its ID stays).
    var createdAt: Int64
}

/// An actor's state at one tipset.
struct SimActorState: Sendable, Equatable {
    var nonce: UInt64
    var balance: UInt128
    /// A miner's rewards so far, folded block by block (Lotus keeps them in the miner's vesting
    /// table): its Head changes with each block it wins, so two branches that rewarded it for
    /// different blocks give it different Heads even where their balances agree.
    var rewards: UInt64 = 0
}

/// A tipset a reorg took off the chain, with the state after it: Lotus keeps both in its
/// blockstore, so they stay readable by key.
struct SimOrphan: Sendable {
    var tipset: SimTipSet
    let state: [String: SimActorState]
}

/// Where a message landed.
struct SimInclusion: Sendable, Equatable {
    let height: Int64
    let message: SimSignedMessage
}

/// The fixtures every simulated network starts with.
public enum SimFixtures {
    /// Miner actors that produce blocks; StateMinerInfo answers for them. A tipset's blocks come
    /// from the first one to three; the fourth joins the heavier sibling tipsets of a reorg.
    public static let miners = ["f01000", "f01001", "f01002", "f01003"]
    /// Funded account actors (ID address, key address); every daemon's wallet holds their keys.
    /// Ten, so that a load test can push from ten senders at once.
    public static let accounts: [(id: String, key: String)] = (0..<10).map { index in
        ("f0\(100 + index)", SimIdentifiers.keyAddress("account-\(index)"))
    }
    /// 1000 FIL in attoFIL.
    public static let accountBalance: UInt128 = 1_000 * 1_000_000_000_000_000_000
    /// What each block pays its miner: 5 FIL, about a mainnet block's reward.
    static let blockReward: UInt128 = 5 * 1_000_000_000_000_000_000
    static let accountCode = SimIdentifiers.cid("code:account")
    static let minerCode = SimIdentifiers.cid("code:storageminer")
}
