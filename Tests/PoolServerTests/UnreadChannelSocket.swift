// A raw websocket with two ChainNotify channels and 16 MiB of answers queued behind it, which
// it does not read: what the goodbye and the slow-reader tests start from.

import FPoolTestSupport

@testable import PoolServer

/// Subscribes to ChainNotify, stops reading, and has fpool queue 16 MiB of answers (an unknown
/// method's name comes back in its error) and then a second ChainNotify's id. Each request is
/// under `offLoopBytes`, so all are read and answered on the loop in order: once the daemon has
/// the second subscription and no call is in flight, every answer waits for the client alone.
/// Returns the highest request id sent (ids 1 and that one are the channels).
func unreadSocketWithTwoChannels(_ served: ServedPool) async throws -> (peer: RawWebSocketPeer, lastID: Int) {
    let peer = try await RawWebSocketPeer.connect(port: served.port)
    try await peer.send(#"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainNotify","params":[]}"#)
    await peer.waitFor("xrpc.ch.val")
    try await peer.setReading(false)
    let name = "X" + String(repeating: "x", count: ClientRequestRouter.offLoopBytes - 100)
    let requests = (16 << 20) / name.utf8.count + 1
    for id in 2...(requests + 1) {
        try await peer.send(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(name)","params":[]}"#)
    }
    try await peer.send(#"{"jsonrpc":"2.0","id":\#(requests + 2),"method":"Filecoin.ChainNotify","params":[]}"#)
    _ = await holds { served.pool.openChannels.values.reduce(0, +) == 2 }
    await served.instance.server.inflight.waitUntilIdle()
    return (peer, requests + 2)
}
