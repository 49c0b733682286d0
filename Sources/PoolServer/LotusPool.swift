// The pool wired for real Lotus daemons: the WebSocket transport and the readers of Lotus's
// push results and head changes. fpool's own server builds its pool this way, and so does a
// proxy that embeds the pool (Examples/EmbeddedProxy).

import LotusWire
import PoolRuntime

extension Pool {
    /// A pool of the environment's Lotus daemons, each reached over one WebSocket
    /// (`UpstreamConnection`, with keepalive pings). Nothing is dialled until the first
    /// `heartbeat()`; `runHeartbeats()` keeps checking them, `closeConnections()` ends them.
    ///
    /// - Parameters:
    ///   - environment: daemons, pool settings and per-API overrides (`PoolEnvironment.load`).
    ///   - observer: where the pool reports what it does (fpool's logs and metrics; silence
    ///     by default).
    ///   - daemonTLS: how daemons given as `/https` or `/wss` are dialled; nil trusts the system's roots.
    ///   - maxAnswerBytes: the largest answer taken from a daemon; a larger one fails its own call.
    public static func lotus(
        _ environment: PoolEnvironment, observer: any PoolObserver = SilentPoolObserver(), daemonTLS: TLSDialer? = nil,
        maxAnswerBytes: Int = LotusWSClient.maxAnswerBytes
    ) -> Pool {
        let tls = daemonTLS ?? (try? TLSDialer(caFile: nil, source: "the system's roots"))
        return Pool(
            environment: environment,
            connect: { UpstreamConnection(endpoint: $0, tls: $0.address.secure ? tls : nil, maxAnswerBytes: maxAnswerBytes) },
            observer: observer,
            pushReader: LotusPushResultReader(), chainNotifyReader: LotusChainNotifyReader(), scheduler: EventLoopScheduler())
    }
}
