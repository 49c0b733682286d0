// The ways a simulated daemon can be made to misbehave, as a value the world applies.

import LotusWire

/// A fault to inject into one daemon, from Swift or from the control endpoint.
public enum SimFault: Sendable, Equatable {
    /// The listener and every connection go away; calls fail with connection refused.
    case kill
    /// Listening again (after `kill`), same session: the process came back without restarting.
    case start
    /// A new process: new Session UUID, every connection and channel dropped, chain view kept.
    case restart
    /// Restarted on another network's chain (nil: back on the cluster's own): its
    /// StateNetworkName and ChainGetGenesis name that network, and its head is 1000 epochs
    /// above the cluster's with other CIDs. As `restart`, it gets a new Session.
    case network(name: String?)
    /// Head frozen (true) or following the chain again (false); Behind grows while frozen.
    case pauseSync(Bool)
    /// The view trails the network head by this many epochs.
    case lag(epochs: Int64)
    /// Peers to publish messages and blocks to (NodeStatus.PeerStatus).
    case peers(message: Int, block: Int)
    /// The next `count` calls of `method` (e.g. "StateGetActor") fail with `error`.
    case failNext(method: String, count: Int, error: RPCError)
    /// Every answer is delayed by this many milliseconds.
    case latency(milliseconds: Int)
    /// Every open WebSocket is closed now; the listener stays.
    case dropWebSockets
    /// Requests are read and never answered (true), or answered again (false).
    case blackHole(Bool)
}
