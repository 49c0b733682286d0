// What one daemon shows of its network: the network's name and genesis, its tipsets, and how
// far behind its NodeStatus says it is.

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
        let head = self.daemons[index].head
        switch self.behindMode {
        case .headAge: return self.clock.blockTimes(since: self.chain.tipset(at: head)!.timestamp)
        case .trueLag: return self.chain.height - head
        }
    }
}
