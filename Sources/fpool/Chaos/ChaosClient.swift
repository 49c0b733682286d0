// One client of the pool under test, as a lotus-miner holds one: a WebSocket that is dialled
// again when it drops (each drop counted: fpool must never drop a client), and calls that
// the harness gives up on after a limit instead of hanging the run.

import LotusWire
import Synchronization

/// The harness stopped waiting for an answer.
struct ChaosCallTimeout: Error, CustomStringConvertible {
    let method: String
    let limit: Duration
    var description: String { "no answer to \(self.method) within \(self.limit.figure) (harness limit)" }
}

final class ChaosClient: Sendable {
    private let port: Int
    private let token: String
    private let recorder: ChaosRecorder
    private let connection = Mutex<LotusWSClient?>(nil)

    init(port: Int, token: String, recorder: ChaosRecorder) {
        self.port = port
        self.token = token
        self.recorder = recorder
    }

    /// The open connection, dialling a new one when there is none or it closed.
    ///
    /// - Throws: the dial error.
    func client() async throws -> LotusWSClient {
        if let open = self.connection.withLock({ $0 }) {
            guard open.isClosed else { return open }
            // Closed by fpool (the harness closes its clients only after the run).
            self.recorder.clientDropped()
            self.connection.withLock { if $0 === open { $0 = nil } }
        }
        let fresh = try await LotusWSClient.connect(host: "127.0.0.1", port: self.port, path: "/rpc/v1", token: self.token)
        self.connection.withLock { $0 = fresh }
        return fresh
    }

    /// Calls `method` through fpool.
    ///
    /// - Throws: `RPCError` for an error answer, `LotusClientError` when the connection fails,
    ///   `ChaosCallTimeout` after `limit`.
    func call(_ method: String, _ params: [JSON], limit: Duration) async throws -> JSON {
        let client = try await self.client()
        return try await withThrowingTaskGroup(of: JSON?.self) { group in
            group.addTask { try await client.call("Filecoin." + method, params) }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            // The first to finish: the answer, or the limit (cancelling the call sends xrpc.cancel).
            guard let answer = try await group.next() ?? nil else { throw ChaosCallTimeout(method: method, limit: limit) }
            return answer
        }
    }

    /// Opens a ChainNotify channel.
    ///
    /// - Throws: as `call`.
    func subscribe(limit: Duration) async throws -> LotusSubscription {
        let client = try await self.client()
        return try await withThrowingTaskGroup(of: LotusSubscription?.self) { group in
            group.addTask { try await client.subscribe("Filecoin.ChainNotify") }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let opened = try await group.next() ?? nil else { throw ChaosCallTimeout(method: "ChainNotify", limit: limit) }
            return opened
        }
    }

    func close() async {
        let open = self.connection.withLock { connection in
            defer { connection = nil }
            return connection
        }
        await open?.close()
    }
}
