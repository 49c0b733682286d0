// The one chain every simulated daemon follows: tipsets, actors, and message inclusion.

/// The chain's whole state. A value type: the world mutates it under its lock.
struct SimChainState: Sendable {
    /// Indexed by height; nil for a null round (an epoch without blocks). The last is never nil.
    private(set) var tipsets: [SimTipSet?] = []
    /// Actor states after each epoch's messages, indexed by height (a null round keeps its
    /// parent's state).
    private(set) var states: [[String: SimActorState]] = []
    private(set) var actors: [String: SimActorRecord] = [:]
    private(set) var keyToID: [String: String] = [:]
    private var nextActorID: UInt64 = 1100
    /// Messages the network has seen and not yet included: sender ID → nonce → message.
    private(set) var published: [String: [UInt64: SimSignedMessage]] = [:]
    /// Both the signed and the unsigned CID of every included message.
    private(set) var inclusions: [String: SimInclusion] = [:]
    /// Block times still to pass without a tipset (null rounds asked for and not yet passed).
    private(set) var pendingNullRounds = 0
    /// Null rounds passed since the last tipset: the next one skips their heights.
    private(set) var nullEpochs: Int64 = 0
    /// The network's name (StateNetworkName); its genesis CID derives from it.
    let network: String
    let genesisTime: UInt64
    let blockSeconds: UInt64
    /// Messages of tipsets this many epochs below the newest are forgotten; nil keeps them all.
    let messageHorizon: Int64?
    /// Heights below this have had their messages forgotten.
    private var messagesKeptFrom: Int64 = 1
    /// Tipsets reorgs took off the chain, by their first block's CID.
    private(set) var orphans: [String: SimOrphan] = [:]
    /// The orphaned tipset (its first block's CID) of each orphaned block, by block CID.
    private(set) var orphanBlocks: [String: String] = [:]
    /// Reorgs so far; a sibling branch's block CIDs carry its number.
    private(set) var reorgs = 0

    init(network: String, genesisTime: UInt64, blockSeconds: UInt64, messageHorizon: Int64? = nil) {
        self.network = network
        self.genesisTime = genesisTime
        self.blockSeconds = blockSeconds
        self.messageHorizon = messageHorizon
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
        self.tipsets = [Self.genesis(network: network, time: genesisTime)]
        self.states = [genesisState]
    }

    /// The genesis tipset of the network named `network`: one block whose CID names the network.
    static func genesis(network: String, time: UInt64) -> SimTipSet {
        let block = SimBlock(
            cid: SimIdentifiers.genesisCID(network: network), miner: "f00", height: 0, parents: [], parentWeight: 0, timestamp: time)
        return SimTipSet(height: 0, blocks: [block], messages: [])
    }

    /// The height of the newest tipset (null rounds since then are not counted).
    var height: Int64 { Int64(self.tipsets.count - 1) }

    var head: SimTipSet { self.tipsets[self.tipsets.count - 1]! }

    /// The tipset at exactly `height`; nil for a null round or a height the chain has not reached.
    func tipset(at height: Int64) -> SimTipSet? {
        height >= 0 && height < self.tipsets.count ? self.tipsets[Int(height)] : nil
    }

    /// The tipset at `height`, or for a null round the one at the next lower height with blocks,
    /// as Lotus's ChainGetTipSetByHeight answers. `height` must be 0…`self.height`.
    func tipset(atOrBelow height: Int64) -> SimTipSet {
        for lower in stride(from: height, through: 0, by: -1) {
            if let tipset = self.tipsets[Int(lower)] { return tipset }
        }
        return self.tipsets[0]!
    }

    /// The first tipset above `height`, if the chain has one yet (the one that executes the
    /// messages included at `height`).
    func tipset(above height: Int64) -> SimTipSet? {
        guard height < self.height else { return nil }
        for higher in (height + 1)...self.height {
            if let tipset = self.tipsets[Int(higher)] { return tipset }
        }
        return nil
    }

    /// The tipset with exactly these block CIDs, at or below `maxHeight`.
    func tipset(cids: [String], atOrBelow maxHeight: Int64) -> SimTipSet? {
        guard let first = cids.first else { return nil }
        for height in stride(from: min(maxHeight, self.height), through: 0, by: -1) {
            guard let tipset = self.tipsets[Int(height)] else { continue }
            if tipset.blocks.contains(where: { $0.cid == first }) { return Set(tipset.cids) == Set(cids) ? tipset : nil }
        }
        return nil
    }

    func block(cid: String, atOrBelow maxHeight: Int64) -> SimBlock? {
        for height in stride(from: min(maxHeight, self.height), through: 0, by: -1) {
            if let block = self.tipsets[Int(height)]?.blocks.first(where: { $0.cid == cid }) { return block }
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

    /// Makes `message` known to the network: the next tipsets may include it. The network
    /// keeps the message it saw first at a nonce unless this one pays enough more to replace
    /// it, as Lotus's mpools do: a daemon that comes back with a message it took while cut
    /// off (its reply lost) does not push out one the network already carries.
    mutating func publish(_ message: SimSignedMessage, senderID: String) {
        guard self.inclusions[message.cid] == nil else { return }
        if let known = self.published[senderID]?[message.message.nonce], known.cid != message.cid,
            message.message.gasPremium < known.replacementPremium
        {
            return
        }
        self.published[senderID, default: [:]][message.message.nonce] = message
    }

    func inclusion(of cid: String) -> SimInclusion? { self.inclusions[cid] }

    /// The next `count` block times produce no tipset (Filecoin's null rounds).
    mutating func scheduleNullRounds(_ count: Int) {
        self.pendingNullRounds += max(0, count)
    }

    /// One block time passes at `timestamp` (seconds since 1970): a pending null round passes
    /// without blocks, or the next tipset is produced above the null rounds before it.
    mutating func blockTimePassed(at timestamp: UInt64) -> SimTipSet? {
        if self.pendingNullRounds > 0 {
            self.pendingNullRounds -= 1
            self.nullEpochs += 1
            return nil
        }
        return self.advance(at: timestamp)
    }

    /// Produces the next tipset (1–3 blocks) above the null rounds passed since the newest.
    private mutating func advance(at timestamp: UInt64) -> SimTipSet {
        let height = self.height + 1 + self.nullEpochs
        self.nullEpochs = 0
        let count = 1 + Int(SimIdentifiers.cid("count:\(height)").utf8.last! % 3)
        return self.append(height: height, blockCount: count, branch: nil, timestamp: timestamp)
    }

    /// Appends a tipset of `blockCount` blocks at `height`, on the newest, including every
    /// published message whose nonce follows its sender's on-chain nonce and paying each block's
    /// miner. Heights between stay empty (null rounds), as on Filecoin: the new tipset's parents
    /// are the newest tipset. `branch` names the reorg that made it (nil: the first branch), so
    /// no two branches share a block CID.
    private mutating func append(height: Int64, blockCount: Int, branch: Int?, timestamp: UInt64) -> SimTipSet {
        let parent = self.head
        var state = self.states[self.states.count - 1]
        while self.tipsets.count < height {
            self.tipsets.append(nil)
            self.states.append(state)
        }
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
        let weight = parent.blocks[0].parentWeight + UInt64(parent.blocks.count) * 100
        let blocks = (0..<blockCount).map { index in
            SimBlock(
                cid: SimIdentifiers.cid("block:\(height):\(index)" + (branch.map { ":reorg\($0)" } ?? "")),
                miner: SimFixtures.miners[index], height: height, parents: parent.cids, parentWeight: weight,
                timestamp: max(timestamp, parent.timestamp))
        }
        for block in blocks {
            // Folding in the block's CID, not only its height: the same miner winning the same
            // epoch on two branches still ends with two different states.
            guard var miner = state[block.miner] else { continue }
            miner.balance += SimFixtures.blockReward
            miner.rewards = SimRandom.fold(miner.rewards, block.cid)
            state[block.miner] = miner
        }
        let tipset = SimTipSet(height: height, blocks: blocks, messages: included)
        self.tipsets.append(tipset)
        self.states.append(state)
        if let horizon = self.messageHorizon {
            // Every height up to the horizon, null rounds' included, so none is skipped.
            while self.messagesKeptFrom <= height - horizon {
                self.forgetMessages(at: self.messagesKeptFrom)
                self.messagesKeptFrom += 1
            }
        }
        return tipset
    }

    /// Replaces the newest `depth` tipsets with a sibling branch at the same heights, as when
    /// the network's miners settle on a heavier fork: each sibling has one block more than the
    /// tipset it replaces (up to the four miners), from other blocks. With `longer`, one more
    /// tipset follows the branch. The orphaned tipsets' messages go back to the network's pool
    /// and the new branch includes them again (from its first tipset on, so they may land lower).
    ///
    /// Returns the orphaned tipsets, newest first, and the new branch, oldest first: the order
    /// Lotus's ChainNotify reverts and applies them. `depth` must be 1…`tipsetsAboveGenesis`.
    mutating func reorg(depth: Int, longer: Bool, at timestamp: UInt64) -> (orphaned: [SimTipSet], applied: [SimTipSet]) {
        precondition(
            depth >= 1 && depth <= self.tipsetsAboveGenesis, "a reorg of \(depth) tipsets on a chain of \(self.tipsetsAboveGenesis)")
        let tipsets = self.tipsets
        let orphaned = Array(stride(from: self.height, to: 0, by: -1).lazy.compactMap { tipsets[Int($0)] }.prefix(depth))
        let forkHeight = orphaned[orphaned.count - 1].height
        self.reorgs += 1
        for tipset in orphaned {
            self.orphans[tipset.cids[0]] = SimOrphan(tipset: tipset, state: self.states[Int(tipset.height)])
            for block in tipset.blocks { self.orphanBlocks[block.cid] = tipset.cids[0] }
            for message in tipset.messages {
                self.inclusions[message.cid] = nil
                self.inclusions[message.message.cid] = nil
                if let sender = self.resolve(message.message.from, at: tipset.height) {
                    self.published[sender, default: [:]][message.message.nonce] = message
                }
            }
        }
        // Back to the fork's parent (null rounds below the fork come back with the siblings).
        let parentHeight = self.tipset(atOrBelow: forkHeight - 1).height
        self.tipsets.removeSubrange(Int(parentHeight + 1)...)
        self.states.removeSubrange(Int(parentHeight + 1)...)
        var applied: [SimTipSet] = []
        for tipset in orphaned.reversed() {
            let blockCount = min(tipset.blocks.count + 1, SimFixtures.miners.count)
            applied.append(self.append(height: tipset.height, blockCount: blockCount, branch: self.reorgs, timestamp: tipset.timestamp))
        }
        if longer { applied.append(self.advance(at: timestamp)) }
        return (orphaned, applied)
    }

    /// Tipsets above genesis: as deep as a reorg can go.
    var tipsetsAboveGenesis: Int { self.tipsets.dropFirst().lazy.filter { $0 != nil }.count }

    /// Drops the messages of the tipsets at `height`, on the chain and orphaned (blocks and states
    /// stay), as a node that prunes its blockstore does: a long run's memory then stays flat.
    private mutating func forgetMessages(at height: Int64) {
        for (key, orphan) in self.orphans where orphan.tipset.height == height && !orphan.tipset.messages.isEmpty {
            self.orphans[key]?.tipset = SimTipSet(height: height, blocks: orphan.tipset.blocks, messages: [])
        }
        guard let old = self.tipset(at: height), !old.messages.isEmpty else { return }
        for message in old.messages {
            self.inclusions[message.cid] = nil
            self.inclusions[message.message.cid] = nil
        }
        self.tipsets[Int(height)] = SimTipSet(height: old.height, blocks: old.blocks, messages: [])
    }

    /// A key address's first message makes an account actor, as on the real chain. A message a
    /// reorg included again finds the actor it made on the orphaned branch: it keeps its ID.
    private mutating func createAccount(_ key: String, at height: Int64) -> String {
        if let id = self.keyToID[key], var record = self.actors[id] {
            record.createdAt = min(record.createdAt, height)
            self.actors[id] = record
            return id
        }
        let id = "f0\(self.nextActorID)"
        self.nextActorID += 1
        self.actors[id] = SimActorRecord(id: id, key: key, code: SimFixtures.accountCode, createdAt: height)
        self.keyToID[key] = id
        return id
    }
}
