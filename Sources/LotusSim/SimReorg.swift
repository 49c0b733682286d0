// Chain reorganisations: the network abandons its newest tipsets for a heavier sibling branch,
// and each daemon following it reverts and applies them on ChainNotify, as Lotus does.

import LotusWire

/// A tipset's key as Lotus passes it: its block CIDs, in order, with its height.
public struct SimTipSetKey: Sendable, Equatable {
    /// The tipset's epoch.
    public let height: Int64
    /// Its blocks' CIDs (`bafy2bzace…`), in the order ChainHead lists them.
    public let cids: [String]

    /// The key as Lotus's JSON `TipSetKey` (`[{"/": cid}, …]`), for ChainGetTipSet and state reads.
    public var json: JSON { SimJSON.key(self.cids) }

    init(_ tipset: SimTipSet) {
        self.height = tipset.height
        self.cids = tipset.cids
    }
}

/// What a reorg did to the network's chain.
public struct SimReorg: Sendable, Equatable {
    /// The height of the lowest replaced tipset; the two branches share every tipset below it.
    public let forkHeight: Int64
    /// The tipsets taken off the chain, newest first: the order ChainNotify reverts them. Daemons
    /// that had synced them still answer for them by key.
    public let orphaned: [SimTipSetKey]
    /// The new branch, oldest first: the order ChainNotify applies them. Its tipsets stand at the
    /// orphaned ones' heights, plus one above them for a longer reorg.
    public let applied: [SimTipSetKey]
}

extension SimCluster {
    /// Reorganises the network's chain: its newest `depth` tipsets are replaced by a heavier
    /// sibling branch at the same heights (other block CIDs, one block more each, the orphaned
    /// tipsets' messages included again from its first tipset), followed by one more tipset when
    /// `longer`. Every daemon that follows the chain (running, not paused) sends its ChainNotify
    /// subscribers one value reverting the orphaned tipsets it had (newest first) and applying the
    /// new branch (oldest first), before this returns; a dead or paused daemon keeps its orphaned
    /// head until it follows again. Orphaned tipsets stay readable by key, with their own state,
    /// on the daemons that had synced them; a miner's Head (and StateGetRandomnessFromTickets)
    /// differ between an orphaned tipset and its replacement.
    ///
    /// `depth` must be at least 1 and at most the tipsets above genesis (`networkHeight` less
    /// null rounds). Concurrency: may be called from any task, like `advance`.
    @discardableResult
    public func reorg(depth: Int, longer: Bool = false) -> SimReorg {
        precondition(depth >= 1, "a reorg needs a depth of at least 1")
        let reorg = self.world.reorg(depth: depth, longer: longer)
        self.logger.info(
            "sim reorg", metadata: ["depth": "\(depth)", "fork": "\(reorg.forkHeight)", "height": "\(reorg.applied.last?.height ?? 0)"])
        return reorg
    }

    /// How deep a reorg can go now: the tipsets above genesis.
    public var reorgableDepth: Int { self.world.state.withLock { $0.chain.tipsetsAboveGenesis } }
}

extension SimWorld {
    /// Replaces the chain's newest `depth` tipsets (see `SimCluster.reorg`) and moves every
    /// daemon's view under the lock, so subscribers see the change before any later one.
    func reorg(depth: Int, longer: Bool) -> SimReorg {
        self.withState { state in
            // What each daemon had, taken before the chain changes under it.
            let synced = state.daemons.indices.map { state.syncedHeight(daemon: $0) }
            let heads = state.daemons.indices.map { state.headTipSet(daemon: $0) }
            let (orphaned, applied) = state.chain.reorg(depth: depth, longer: longer, at: state.clock.nowSeconds)
            let forkHeight = orphaned[orphaned.count - 1].height
            for index in state.daemons.indices {
                // Its blockstore keeps what it had synced of the orphaned tipsets.
                let had = orphaned.filter { $0.height <= synced[index] }.map { $0.cids[0] }
                state.daemons[index].knownOrphans.formUnion(had)
                if state.daemons[index].orphanedHead == nil && heads[index].height >= forkHeight {
                    state.daemons[index].orphanedHead = heads[index]
                }
            }
            for index in state.daemons.indices { Self.updateView(&state, daemon: index) }
            return SimReorg(
                forkHeight: forkHeight, orphaned: orphaned.map(SimTipSetKey.init), applied: applied.map(SimTipSetKey.init))
        }
    }
}
