// The chain a daemon switched to another network shows: the cluster's chain renamed by that
// network's name and 1000 epochs higher, so a pool that ignores the network sees a far
// better head and every other daemon "behind".

/// Another network's chain, derived from the cluster's so that it moves when the cluster's does.
struct SimForeignChain: Sendable {
    /// How far the other network's heights lie above the cluster's.
    static let heightOffset: Int64 = 1000
    let network: String
    let genesis: SimTipSet
    /// The cluster's genesis CID, which the other network's genesis stands in for.
    private let clusterGenesis: String

    init(network: String, cluster: SimChainState) {
        self.network = network
        self.genesis = SimChainState.genesis(network: network, time: cluster.genesisTime)
        self.clusterGenesis = cluster.tipset(at: 0)!.cids[0]
    }

    /// The other network's tipset standing for `tipset` of the cluster's chain: its genesis for
    /// the cluster's genesis; above that, same block count and timestamps (its head is as
    /// fresh), other CIDs, height + 1000, no messages. Heights 1…1000 have no tipset (lookups
    /// there answer the genesis, as below a null round).
    func tipset(over tipset: SimTipSet) -> SimTipSet {
        guard tipset.height > 0 else { return self.genesis }
        let blocks = tipset.blocks.map { block in
            SimBlock(
                cid: self.rename(block.cid), miner: block.miner, height: block.height + Self.heightOffset,
                parents: block.parents.map(self.rename), parentWeight: block.parentWeight + UInt64(Self.heightOffset) * 100,
                timestamp: block.timestamp)
        }
        return SimTipSet(height: tipset.height + Self.heightOffset, blocks: blocks, messages: [])
    }

    /// The tipset the other network has at `height`, or below it when that height has none,
    /// as far as the cluster's chain has reached `view`.
    func tipset(atOrBelow height: Int64, chain: SimChainState, view: Int64) -> SimTipSet {
        let below = height - Self.heightOffset
        guard below > 0 else { return self.genesis }
        return self.tipset(over: chain.tipset(atOrBelow: min(below, view)))
    }

    /// The cluster's tipset behind the other network's tipset with these CIDs, at or below
    /// `view`; nil when the other network has no such tipset.
    func underlying(cids: [String], chain: SimChainState, view: Int64) -> SimTipSet? {
        guard let first = cids.first else { return nil }
        for height in stride(from: min(view, chain.height), through: 0, by: -1) {
            guard let tipset = chain.tipset(at: height) else { continue }
            let shown = self.tipset(over: tipset)
            if shown.cids.contains(first) { return Set(shown.cids) == Set(cids) ? tipset : nil }
        }
        return nil
    }

    /// The other network's block with this CID, at or below `view`.
    func block(cid: String, chain: SimChainState, view: Int64) -> SimBlock? {
        for height in stride(from: min(view, chain.height), through: 0, by: -1) {
            guard let tipset = chain.tipset(at: height) else { continue }
            if let block = self.tipset(over: tipset).blocks.first(where: { $0.cid == cid }) { return block }
        }
        return nil
    }

    private func rename(_ cid: String) -> String {
        cid == self.clusterGenesis ? self.genesis.cids[0] : SimIdentifiers.cid("\(self.network):\(cid)")
    }
}
