// Runs the example proxy: `FULLNODE_API_POOL_INFO=token:/ip4/127.0.0.1/tcp/1234/http,... \
// embedded-proxy [port]` serves read calls on 127.0.0.1 through fpool's pool of those daemons.

import EmbeddedProxy
import Foundation
import Hummingbird
import PoolRuntime
import PoolServer

let environment: PoolEnvironment
do {
    environment = try PoolEnvironment.load(ProcessInfo.processInfo.environment)
} catch {
    FileHandle.standardError.write(Data("embedded-proxy: \(error)\n".utf8))
    exit(2)
}
let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 8080
let pool = Pool.lotus(environment)
await pool.heartbeat()
let heartbeats = Task { await pool.runHeartbeats() }
let router = Router()
LotusRPCProxy(pool: pool).addRoutes(to: router)
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
heartbeats.cancel()
await pool.closeConnections()
