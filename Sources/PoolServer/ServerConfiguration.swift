// The client-facing server's address and limits.

/// Where fpool listens and what it tolerates from clients.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests).
    public var port: Int
    /// Requests larger than this are refused as go-jsonrpc does (-32700 `request bigger than
    /// maximum … allowed`); Lotus's own default.
    public var maxRequestBytes: Int
    /// A connection that sends nothing for this long is closed: an idle HTTP keep-alive, or a
    /// WebSocket whose client died (Lotus clients ping every 5 s, so a live one never idles).
    public var idleTimeout: Duration
    /// How long a graceful shutdown waits for calls in flight.
    public var shutdownGrace: Duration
    /// A WebSocket client with more than this waiting to be written to it for longer than
    /// `slowClientGrace` has stopped reading its answers: it is closed (it redials) instead of
    /// buffered without limit. One answer may be larger (a big miner's sector list): it passes
    /// if the client reads it within the grace.
    public var maxQueuedBytes: Int = 64 << 20
    /// How long a WebSocket client may stay over `maxQueuedBytes` (go-jsonrpc's own
    /// keepalive gives a peer 30 s).
    public var slowClientGrace: Duration = .seconds(30)

    public init(
        host: String = "127.0.0.1", port: Int = 2245, maxRequestBytes: Int = 100 << 20, idleTimeout: Duration = .seconds(60),
        shutdownGrace: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.maxRequestBytes = maxRequestBytes
        self.idleTimeout = idleTimeout
        self.shutdownGrace = shutdownGrace
    }
}
