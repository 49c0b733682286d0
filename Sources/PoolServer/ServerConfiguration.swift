// The client-facing server's address and limits.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

import LotusWire

/// Where fpool listens and what it tolerates from clients.
public struct ServerConfiguration: Sendable {
    /// The IP address to listen on, IPv4 or IPv6 without brackets (`::1`); `PoolRPCServer.listenAddress` and the
    /// repo's `api` file write it as an `/ip4` or `/ip6` multiaddr, so give an address, not a host name.
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
    /// While more than this waits to be written to a WebSocket client, fpool reads none of its
    /// requests (TCP then slows the client down), and answers of calls already started wait
    /// unframed (coalesced reads sharing one result) until it drains; one that reads less than
    /// 1 MiB of it in `slowClientGrace` has stopped reading and is closed (it redials). One
    /// answer may be larger (a big miner's sector list): it passes as long as the client reads.
    public var maxQueuedBytes: Int = 16 << 20
    /// How long a WebSocket client over `maxQueuedBytes` may go reading less than 1 MiB
    /// (go-jsonrpc's own keepalive gives a peer 30 s).
    public var slowClientGrace: Duration = .seconds(30)
    /// Calls one WebSocket connection may have in flight; at the cap fpool stops reading the
    /// connection until one is answered, instead of queueing what it sends.
    public var maxCallsInFlight: Int = 2048
    /// Channels (ChainNotify, MpoolSub, …) one WebSocket connection may have open; a channel
    /// call past it is refused. An open channel is no call in flight, yet it holds its recent
    /// tipsets and, for most methods, a subscription on a daemon: lotus-miner opens a few.
    public var maxChannelsPerConnection: Int = 64
    /// Channels open across every connection; a channel call past it is refused.
    public var maxChannels: Int = 16_384
    /// A request's head and body must arrive within this (answered 408 and closed otherwise),
    /// plus one second per `minRequestBytesPerSecond` of it: a large body on a slow link
    /// passes, a trickle that would hold a connection and its buffer does not.
    public var requestTimeout: Duration = .seconds(30)
    /// The slowest upload `requestTimeout` allows for: each this many bytes of a request adds one second to it.
    public var minRequestBytesPerSecond: Int = 1 << 20
    /// Open client connections served; past it `connectionReserve` more serve only /healthz,
    /// /metrics and admin calls, and further ones are closed at once. The default keeps a
    /// quarter of the process's descriptors (at least 128) for daemon connections.
    public var maxConnections: Int = ServerConfiguration.defaultMaxConnections()
    /// Connections past `maxConnections` that still serve /healthz, /metrics and admin calls, so an operator can look in
    /// and act while clients fill the server.
    public var connectionReserve: Int = 32
    /// Bytes of requests held across all connections: unfinished ones, and those read and not
    /// yet answered (a websocket call's with 2 KiB for its own state, so this bounds calls in
    /// flight too; an HTTP connection has one call at a time). An HTTP body that would pass it is refused (503); a WebSocket call is answered with
    /// an error to retry on, and an unfinished message closes its socket (1013). At least one
    /// request of `maxRequestBytes` always fits.
    public var maxBufferedRequestBytes: Int = 256 << 20
    /// The largest answer taken from a daemon (`--max-answer-bytes`): a larger one is read past
    /// and fails its own call alone, with an error naming the limit. Each upstream socket may
    /// hold one answer this large while it arrives.
    public var maxAnswerBytes: Int = LotusWSClient.maxAnswerBytes
    /// Serve HTTPS and WSS with this certificate (`--tls-cert`, `--tls-key`); nil serves plain HTTP.
    public var tls: TLSServerIdentity?

    /// A configuration listening on `127.0.0.1:2245`, Lotus's request size limit (100 MiB), 60 s idle timeout and 30 s
    /// shutdown grace unless given; the other limits keep their defaults and can be set afterwards.
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

    /// Three quarters of the process's soft descriptor limit (leaving at least 128), at most
    /// 16,384 and at least 64.
    public static func defaultMaxConnections() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 16_384 }
        let descriptors = Int(clamping: limit.rlim_cur)
        return min(16_384, max(64, descriptors - max(128, descriptors / 4)))
    }
}
