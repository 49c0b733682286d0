// The one chain every simulated daemon follows: tipsets, actors, and message inclusion.

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
    let createdAt: Int64
}

/// An actor's state at one tipset.
struct SimActorState: Sendable, Equatable {
    var nonce: UInt64
    var balance: UInt128
}

/// Where a message landed.
struct SimInclusion: Sendable, Equatable {
    let height: Int64
    let message: SimSignedMessage
}

/// The fixtures every simulated network starts with.
public enum SimFixtures {
    /// Miner actors that produce blocks; StateMinerInfo answers for them.
    public static let miners = ["f01000", "f01001", "f01002"]
    /// Funded account actors (ID address, key address); every daemon's wallet holds their keys.
    public static let accounts: [(id: String, key: String)] = (0..<5).map { index in
        ("f0\(100 + index)", SimIdentifiers.keyAddress("account-\(index)"))
    }
    /// 1000 FIL in attoFIL.
    public static let accountBalance: UInt128 = 1_000 * 1_000_000_000_000_000_000
    static let accountCode = SimIdentifiers.cid("code:account")
    static let minerCode = SimIdentifiers.cid("code:storageminer")
}

/// The chain's whole state. A value type: the world mutates it under its lock.
struct SimChainState: Sendable {
    private(set) var tipsets: [SimTipSet] = []
    /// Actor states after each tipset's messages, indexed by height.
    private(set) var states: [[String: SimActorState]] = []
    private(set) var actors: [String: SimActorRecord] = [:]
    private(set) var keyToID: [String: String] = [:]
    private var nextActorID: UInt64 = 1100
    /// Messages the network has seen and not yet included: sender ID → nonce → message.
    private(set) var published: [String: [UInt64: SimSignedMessage]] = [:]
    /// Both the signed and the unsigned CID of every included message.
    private(set) var inclusions: [String: SimInclusion] = [:]
    let genesisTime: UInt64
    let blockSeconds: UInt64

    init(genesisTime: UInt64, blockSeconds: UInt64) {
        self.genesisTime = genesisTime
        self.blockSeconds = blockSeconds
        var genesisState: [String: SimActorState] = [:]
        for miner in SimFixtures.miners {
            self.actors[miner] = SimActorRecord(id: miner, key: nil, code: SimFixtures.minerCode, createdAt: 0)
            genesisState[miner] = SimActorState(nonce: 0, balance: 0)
        }
        for account in SimFixtures.accounts {
            self.actors[account.id] = SimActorRecord(id: account.id, key: account.key, code: SimFixtures.accountCode, createdAt: 0)
            self.keyToID[account.key] = account.id
            genesisState[account.id] = SimActorState(nonce: 0, balance: SimFixtures.accountBalance)
        }
        let genesisBlock = SimBlock(
            cid: SimIdentifiers.cid("genesis"), miner: "f00", height: 0, parents: [], parentWeight: 0, timestamp: genesisTime)
        self.tipsets = [SimTipSet(height: 0, blocks: [genesisBlock], messages: [])]
        self.states = [genesisState]
    }

    var height: Int64 { Int64(self.tipsets.count - 1) }

    func tipset(at height: Int64) -> SimTipSet? {
        height >= 0 && height < self.tipsets.count ? self.tipsets[Int(height)] : nil
    }

    /// The tipset with exactly these block CIDs, at or below `maxHeight`.
    func tipset(cids: [String], atOrBelow maxHeight: Int64) -> SimTipSet? {
        guard let first = cids.first else { return nil }
        for height in stride(from: min(maxHeight, self.height), through: 0, by: -1) {
            let tipset = self.tipsets[Int(height)]
            if tipset.blocks.contains(where: { $0.cid == first }) { return Set(tipset.cids) == Set(cids) ? tipset : nil }
        }
        return nil
    }

    func block(cid: String, atOrBelow maxHeight: Int64) -> SimBlock? {
        for height in stride(from: min(maxHeight, self.height), through: 0, by: -1) {
            if let block = self.tipsets[Int(height)].blocks.first(where: { $0.cid == cid }) { return block }
        }
        return nil
    }

    /// The ID address `address` stands for at `height`, if the actor exists there.
    func resolve(_ address: String, at height: Int64) -> String? {
        let id = address.hasPrefix("f0") || address.hasPrefix("t0") ? "f0" + address.dropFirst(2) : self.keyToID[address]
        guard let id, let record = self.actors[id], record.createdAt <= height else { return nil }
        return id
    }

    func record(_ id: String) -> SimActorRecord? { self.actors[id] }

    func state(of id: String, at height: Int64) -> SimActorState? {
        guard height >= 0, height < self.states.count else { return nil }
        return self.states[Int(height)][id]
    }

    /// Makes `message` known to the network: the next tipsets may include it.
    mutating func publish(_ message: SimSignedMessage, senderID: String) {
        guard self.inclusions[message.cid] == nil else { return }
        self.published[senderID, default: [:]][message.message.nonce] = message
    }

    func inclusion(of cid: String) -> SimInclusion? { self.inclusions[cid] }

    /// Produces the next tipset (1–3 blocks), including every published message whose nonce
    /// follows its sender's on-chain nonce.
    mutating func advance() -> SimTipSet {
        let height = self.height + 1
        let parent = self.tipsets[Int(height - 1)]
        var state = self.states[Int(height - 1)]
        var included: [SimSignedMessage] = []
        for sender in self.published.keys.sorted() {
            while var actor = state[sender], let message = self.published[sender]?[actor.nonce] {
                self.published[sender]?[actor.nonce] = nil
                actor.nonce += 1
                actor.balance -= min(actor.balance, message.message.value)
                state[sender] = actor
                let to = message.message.to
                let isKeyAddress = !(to.hasPrefix("f0") || to.hasPrefix("t0"))
                // Value sent to an unknown ID address is lost, as a failed send's would be.
                if let recipient = self.resolve(to, at: height) ?? (isKeyAddress ? self.createAccount(to, at: height) : nil) {
                    state[recipient, default: SimActorState(nonce: 0, balance: 0)].balance += message.message.value
                }
                included.append(message)
                self.inclusions[message.cid] = SimInclusion(height: height, message: message)
                self.inclusions[message.message.cid] = SimInclusion(height: height, message: message)
            }
            if self.published[sender]?.isEmpty == true { self.published[sender] = nil }
        }
        // Drop published messages the chain has moved past (replaced or stale nonces).
        for (sender, messages) in self.published {
            let next = state[sender]?.nonce ?? 0
            self.published[sender] = messages.filter { $0.key >= next }
        }
        let count = 1 + Int(SimIdentifiers.cid("count:\(height)").utf8.last! % 3)
        let timestamp = self.genesisTime + UInt64(height) * self.blockSeconds
        let weight = parent.blocks[0].parentWeight + UInt64(parent.blocks.count) * 100
        let blocks = (0..<count).map { index in
            SimBlock(
                cid: SimIdentifiers.cid("block:\(height):\(index)"), miner: SimFixtures.miners[index], height: height,
                parents: parent.cids, parentWeight: weight, timestamp: timestamp)
        }
        let tipset = SimTipSet(height: height, blocks: blocks, messages: included)
        self.tipsets.append(tipset)
        self.states.append(state)
        return tipset
    }

    /// A key address's first message makes an account actor, as on the real chain.
    private mutating func createAccount(_ key: String, at height: Int64) -> String {
        let id = "f0\(self.nextActorID)"
        self.nextActorID += 1
        self.actors[id] = SimActorRecord(id: id, key: key, code: SimFixtures.accountCode, createdAt: height)
        self.keyToID[key] = id
        return id
    }
}
