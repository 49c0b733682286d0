// Lookups that see the whole tree of tipsets, not only the network's chain: orphaned tipsets by
// key, and walks down the branch a tipset ends, as Lotus answers for any tipset in its blockstore.

extension SimChainState {
    /// The orphaned tipset `cid` is a block of.
    func orphan(containing cid: String) -> SimOrphan? {
        self.orphanBlocks[cid].flatMap { self.orphans[$0] }
    }

    /// Whether `tipset` is on the network's chain (false for an orphaned one).
    func isOnChain(_ tipset: SimTipSet) -> Bool {
        self.tipset(at: tipset.height)?.cids.first == tipset.cids.first
    }

    /// The tipset with exactly these block CIDs (in any order), on the chain or orphaned.
    func anyTipSet(cids: [String]) -> SimTipSet? {
        guard let first = cids.first else { return nil }
        if let orphan = self.orphan(containing: first) { return Set(orphan.tipset.cids) == Set(cids) ? orphan.tipset : nil }
        return self.tipset(cids: cids, atOrBelow: self.height)
    }

    /// The block with this CID, on the chain or orphaned, and the tipset it belongs to.
    func anyBlock(cid: String) -> (block: SimBlock, tipset: SimTipSet)? {
        if let orphan = self.orphan(containing: cid), let block = orphan.tipset.blocks.first(where: { $0.cid == cid }) {
            return (block, orphan.tipset)
        }
        guard let block = self.block(cid: cid, atOrBelow: self.height) else { return nil }
        return (block, self.tipset(at: block.height)!)
    }

    /// The tipset `tipset` was built on; nil for genesis.
    func parent(of tipset: SimTipSet) -> SimTipSet? {
        self.anyTipSet(cids: tipset.blocks[0].parents)
    }

    /// The newest tipset of `tip`'s branch that is on the network's chain: where an orphaned
    /// branch forked off (`tip` itself when it is on the chain).
    func forkPoint(of tip: SimTipSet) -> SimTipSet {
        var current = tip
        while !self.isOnChain(current), let parent = self.parent(of: current) { current = parent }
        return current
    }

    /// The tipset at `height` on the branch that ends at `tip`, or below it for a null round, as
    /// Lotus's ChainGetTipSetByHeight walks back from the tipset it is given.
    func tipset(atOrBelow height: Int64, on tip: SimTipSet) -> SimTipSet {
        var current = tip
        // Down the orphaned part one parent at a time; on the chain, straight to the height.
        while !self.isOnChain(current) {
            guard current.height > height, let parent = self.parent(of: current) else { return current }
            current = parent
        }
        return self.tipset(atOrBelow: min(height, current.height))
    }

    /// The first tipset at `height` or above it (after a null round) on the branch that ends at
    /// `tip`, and `tip` when none is: Lotus's ChainGetTipSetAfterHeight.
    func tipset(atOrAbove height: Int64, on tip: SimTipSet) -> SimTipSet {
        var above = tip
        var current = tip
        while !self.isOnChain(current) && current.height > height, let parent = self.parent(of: current) {
            above = current
            current = parent
        }
        if current.height < height { return above }
        guard self.isOnChain(current) else { return current }
        if let next = self.tipset(above: height - 1), next.height <= current.height { return next }
        return current
    }

    /// `id`'s state after `tipset`, on the chain or orphaned.
    func state(of id: String, at tipset: SimTipSet) -> SimActorState? {
        if let orphan = self.orphans[tipset.cids[0]] { return orphan.state[id] }
        return self.state(of: id, at: tipset.height)
    }
}
