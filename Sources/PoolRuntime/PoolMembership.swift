// `fpool node add`: a daemon joins only if it is not in the pool already and follows the
// pool's chain.

extension Pool {
    /// Adds a daemon an operator names, after checking it once: refused when a listed node has
    /// its address or name, when it is a listed daemon under another address (same Session), or
    /// when it follows another chain. A daemon that does not answer yet is added (it serves once
    /// a heartbeat finds it healthy, and is judged then).
    ///
    /// - Throws: `PoolCommandError` naming the node it duplicates or both networks.
    @discardableResult
    public func admitNode(_ endpoint: NodeEndpoint, sealing: Bool = false) async throws(PoolCommandError) -> Int {
        if let duplicate = self.state.withLock({ $0.table.duplicate(of: endpoint) }) { throw duplicate }
        let connection = self.connect(endpoint)
        // An operator adding a daemon can wait a little longer than a heartbeat does: a busy
        // daemon (or fpool under load) must not be added unchecked for a slow first answer.
        let limit = max(Duration.milliseconds(Int(self.settings.heartbeatInterval.milliseconds)), .seconds(10))
        let unanswered: (Result<NodeProbe, NodeCallFailure>, Result<NetworkIdentity, NodeCallFailure>?) = (
            .failure(NodeCallFailure(.unreachable(.maybeSent, detail: "no answer within \(limit)"))), nil
        )
        let (probe, identity) = await self.bounded(limit, timedOut: unanswered) {
            let probe = await connection.probe()
            guard case .success = probe else { return (probe, nil) }
            return (probe, await connection.identify())
        }
        let refusal = self.state.withLock { state -> PoolCommandError? in
            if let duplicate = state.table.duplicate(of: endpoint) { return duplicate }
            if case .success(let probe) = probe, let same = state.table.node(withSession: probe.session) {
                return PoolCommandError(
                    "\(endpoint.name) is the daemon already in the pool as node \(same.endpoint.name) (same Session \(probe.session))")
            }
            if case .success(let identity)? = identity, let reason = state.table.network.refusal(of: identity) {
                return PoolCommandError("\(endpoint.name) refused: \(reason)")
            }
            return nil
        }
        if let refusal {
            await connection.reset()
            throw refusal
        }
        return self.insert(endpoint, connection: connection, sealing: sealing)
    }

    /// Drops every daemon connection, as a graceful stop does last: the pool closes them, so
    /// none is reported lost (no "connection lost" line after the goodbye).
    public func closeConnections() async {
        let connections = self.state.withLock { $0.table.nodes.map(\.connection) }
        for connection in connections { await connection.reset() }
    }
}
