// What one daemon shows of its network: the network's name and genesis, its head and the
// tipsets it has synced, and how far behind its NodeStatus says it is.

extension SimWorld.State {
    /// The other network `daemon` follows; nil when it follows the cluster's.
    func foreignChain(daemon index: Int) -> SimForeignChain? {
        self.daemons[index].network.map { SimForeignChain(network: $0, cluster: self.chain) }
    }

    /// StateNetworkName's answer on `daemon`.
    func networkName(daemon index: Int) -> String { self.daemons[index].network ?? self.chain.network }

    /// ChainGetGenesis's answer on `daemon`.
    func genesis(daemon index: Int) -> SimTipSet { self.foreignChain(daemon: index)?.genesis ?? self.chain.tipset(at: 0)! }

    /// The tipset `daemon` shows for `tipset` of the cluster's chain (another network's
    /// counterpart when it follows one).
    func shown(_ tipset: SimTipSet, daemon index: Int) -> SimTipSet {
        self.foreignChain(daemon: index)?.tipset(over: tipset) ?? tipset
    }

    /// NodeStatus's `SyncStatus.Behind` on `daemon`, by the cluster's rule.
    func behind(daemon index: Int) -> Int64 {
        switch self.behindMode {
        case .headAge: return self.clock.blockTimes(since: self.headTipSet(daemon: index).timestamp)
        case .trueLag: return self.chain.height - self.daemons[index].head
        }
    }

    /// The tipset `daemon`'s head is: on the network's chain, or orphaned when it has not
    /// followed a reorg yet.
    func headTipSet(daemon index: Int) -> SimTipSet {
        self.daemons[index].orphanedHead ?? self.chain.tipset(at: self.daemons[index].head)!
    }

    /// How far up the network's chain `daemon` has synced: its head, or where its orphaned
    /// branch forked off.
    func syncedHeight(daemon index: Int) -> Int64 {
        self.daemons[index].orphanedHead.map { self.chain.forkPoint(of: $0).height } ?? self.daemons[index].head
    }

    /// Whether `daemon` has `tipset`: on the chain up to where it has synced, or an orphaned
    /// tipset it had synced before the reorg.
    func knows(_ tipset: SimTipSet, daemon index: Int) -> Bool {
        if self.chain.isOnChain(tipset) { return tipset.height <= self.syncedHeight(daemon: index) }
        return self.daemons[index].knownOrphans.contains(tipset.cids[0])
    }

    /// The tipset with these block CIDs, if `daemon` has it.
    func syncedTipSet(cids: [String], daemon index: Int) -> SimTipSet? {
        self.chain.anyTipSet(cids: cids).flatMap { self.knows($0, daemon: index) ? $0 : nil }
    }

    /// The block with this CID and its tipset, if `daemon` has it.
    func syncedBlock(cid: String, daemon index: Int) -> (block: SimBlock, tipset: SimTipSet)? {
        self.chain.anyBlock(cid: cid).flatMap { self.knows($0.tipset, daemon: index) ? $0 : nil }
    }
}
