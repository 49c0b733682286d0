// A TCP listener for Lotus-style HTTP/WebSocket servers (fpool's and the simulated daemons'):
// each accepted connection is served in a child task and kept in a registry until it ends, so
// the server can stop accepting, close its connections, or drop one kind of them.

import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One bound listener and the connections it accepted; `Accepted` is what a connection's
/// pipeline set-up yields (an upgraded WebSocket or an HTTP channel).
///
/// Concurrency: every method may be called from any task.
public final class ConnectionListener<Accepted: Sendable>: Sendable {
    private struct State {
        var accepting = true
        /// Open connections, and whether each is a WebSocket.
        var connections: [ObjectIdentifier: (channel: any Channel, websocket: Bool)] = [:]
        /// Why an upgrade was refused, by connection (servers on NIO's typed upgrader, such as
        /// the simulated daemons): that upgrader drops the request head of a refused upgrade, so
        /// the HTTP answer that follows reads the reason here.
        var refusals: [ObjectIdentifier: (HTTPResponseStatus, String)] = [:]
        /// Upgraded before their registration ran (see `upgraded`).
        var upgradedBeforeTracked: Set<ObjectIdentifier> = []
    }

    private let listener: NIOAsyncChannel<EventLoopFuture<Accepted>, Never>
    private let acceptTask = Mutex<Task<Void, Never>?>(nil)
    private let state = Mutex(State())
    /// The bound port (the one the OS picked when 0 was asked for).
    public let port: Int

    /// Binds `host:port`; connections are accepted once `serve` is called.
    ///
    /// - Parameter configure: sets up a new connection's pipeline (on its event loop).
    /// - Throws: the bind error (address in use, …).
    public init(
        host: String, port: Int, backlog: Int32 = 256,
        configure: @escaping @Sendable (any Channel) throws -> EventLoopFuture<Accepted>
    ) async throws {
        self.listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: backlog)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try configure(channel) }
            }
        self.port = self.listener.channel.localAddress?.port ?? port
    }

    /// Serves every accepted connection with `serve`, each in its own task; `ended` is told
    /// why the accept loop ended (it ends when the listener closes).
    public func serve(
        _ serve: @escaping @Sendable (EventLoopFuture<Accepted>) async -> Void, ended: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        let listener = self.listener
        // Cancelling this task cancels every connection's task too: requests that never end
        // (long polls, a black-holed daemon) end with the listener instead of leaking.
        let task = Task {
            await withDiscardingTaskGroup { group in
                do {
                    try await listener.executeThenClose { inbound in
                        for try await accepted in inbound {
                            group.addTask { await serve(accepted) }
                        }
                    }
                } catch {
                    ended(error)
                }
            }
        }
        self.acceptTask.withLock { $0 = task }
    }

    /// Runs `body` with `connection` registered; a connection arriving after `stopAccepting` is
    /// closed instead.
    public func track(_ connection: any Channel, websocket: Bool, _ body: () async throws -> Void) async throws {
        let key = ObjectIdentifier(connection)
        let accepted = self.state.withLock { state -> Bool in
            let upgradedLater = state.upgradedBeforeTracked.remove(key) != nil
            guard state.accepting else { return false }
            state.connections[key] = (connection, websocket || upgradedLater)
            return true
        }
        guard accepted else {
            try? await connection.close()
            return
        }
        defer {
            self.state.withLock { state in
                state.connections.removeValue(forKey: key)
                state.refusals.removeValue(forKey: key)
            }
        }
        try await body()
    }

    /// `connection`, tracked as HTTP, became a WebSocket (a server that upgrades requests
    /// itself, on any request of a connection, says so here).
    public func upgraded(_ connection: any Channel) {
        let key = ObjectIdentifier(connection)
        self.state.withLock { state in
            if state.connections[key] != nil {
                state.connections[key]?.websocket = true
            } else {
                state.upgradedBeforeTracked.insert(key)
            }
        }
    }

    /// The answer to a WebSocket upgrade request: accepted, or refused as Lotus refuses it
    /// (404 for an unknown path, 401 for a token it did not sign — "bad handshake" for a Go
    /// client), noted for the HTTP answer that follows.
    public func upgradeAnswer(_ connection: any Channel, pathKnown: Bool, authorized: Bool) -> EventLoopFuture<HTTPHeaders?> {
        let refusal: (HTTPResponseStatus, String)? =
            !pathKnown ? (.notFound, "404 page not found\n") : !authorized ? (.unauthorized, "JWT Verification failed\n") : nil
        guard let refusal else { return connection.eventLoop.makeSucceededFuture(HTTPHeaders()) }
        self.state.withLock { $0.refusals[ObjectIdentifier(connection)] = refusal }
        return connection.eventLoop.makeSucceededFuture(nil)
    }

    /// The refusal noted for `connection`, once.
    public func takeRefusal(_ connection: any Channel) -> (HTTPResponseStatus, String)? {
        self.state.withLock { $0.refusals.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    /// Closes the listening socket; open connections stay until `closeAll`.
    public func stopAccepting() async {
        self.state.withLock { $0.accepting = false }
        try? await self.listener.channel.close()
    }

    /// Stops accepting, closes every connection and ends their tasks.
    public func closeAll() async {
        await self.stopAccepting()
        let open = self.state.withLock { state in
            defer { state.connections = [:] }
            return state.connections.values.map(\.channel)
        }
        for connection in open { try? await connection.close() }
        self.acceptTask.withLock { $0 }?.cancel()
    }

    /// The open connections of one kind (WebSocket or HTTP).
    public func openConnections(websocket: Bool) -> [any Channel] {
        self.state.withLock { state in state.connections.values.filter { $0.websocket == websocket }.map(\.channel) }
    }

    /// Closes the WebSocket connections only.
    public func closeWebSockets() async {
        for socket in self.openConnections(websocket: true) { try? await socket.close() }
    }

    /// False once `stopAccepting` (or `closeAll`) has run: connections registering later are closed, and fpool's
    /// server then refuses WebSocket upgrades and ends kept-alive HTTP connections after their answer.
    public var isAccepting: Bool { self.state.withLock { $0.accepting } }
    /// Connections registered by `track` whose body is still running, HTTP and WebSocket together.
    public var connectionCount: Int { self.state.withLock { $0.connections.count } }
}
