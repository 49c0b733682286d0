// NIOTunnel: the least work a SwiftNIO proxy can do per call, as a reference target for the proxy
// benchmark. Each accepted connection gets its own upstream connection on the same event loop, and
// bytes are copied both ways without being read (what nginx does to a WebSocket after the
// upgrade), with back-pressure. fpool is built on SwiftNIO as the specification requires; the
// tunnel's figures show how much of fpool's distance to nginx is SwiftNIO's own cost per event.
//
//   NIOTunnel --listen-port 0 --upstream-port 1234   (prints "listening on <port>")

import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Forwards what one side reads to the other side's channel; reading pauses while the other
/// side cannot take more (its write buffer is over the high-water mark).
final class TunnelGlue: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: TunnelGlue?
    private var context: ChannelHandlerContext?
    private var readPending = false

    /// Two glues bound to each other, one for each channel (both on one event loop).
    static func pair() -> (TunnelGlue, TunnelGlue) {
        let first = TunnelGlue()
        let second = TunnelGlue()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.partner?.context?.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.partner?.context?.close(promise: nil)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let partner = self.partner, partner.readPending {
            partner.readPending = false
            partner.context?.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if self.partner?.context?.channel.isWritable ?? true {
            context.read()
        } else {
            self.readPending = true
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@main
struct NIOTunnel {
    static func main() async throws {
        var listenPort = 0
        var upstreamPort: Int?
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--listen-port": listenPort = arguments.next().flatMap(Int.init) ?? -1
            case "--upstream-port": upstreamPort = arguments.next().flatMap(Int.init)
            default:
                print("NIOTunnel: unknown argument '\(argument)'; expected --listen-port N --upstream-port N")
                exit(2)
            }
        }
        guard let upstreamPort, (0...65535).contains(listenPort) else {
            print("NIOTunnel: expected --upstream-port N (and optionally --listen-port N, 0 for any free port)")
            exit(2)
        }
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Nothing is read from the client until its upstream connection is up.
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: "127.0.0.1", port: upstreamPort)
                    .flatMapThrowing { outbound in
                        let (client, daemon) = TunnelGlue.pair()
                        try inbound.pipeline.syncOperations.addHandler(client)
                        try outbound.pipeline.syncOperations.addHandler(daemon)
                        try inbound.syncOptions?.setOption(.autoRead, value: true)
                    }
            }
            .bind(host: "127.0.0.1", port: listenPort).get()
        // Unbuffered: run.sh waits for this line while the tunnel runs.
        let line = Array("listening on \(server.localAddress?.port ?? 0)\n".utf8)
        _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        try await server.closeFuture.get()
    }
}
