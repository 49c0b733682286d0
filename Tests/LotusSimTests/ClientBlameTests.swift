// Which request a client blames when its server hangs up: the last one sent, as the one the
// server may have been unable to take; the pool retries that one on one other daemon only.

import LotusSim
import LotusWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct ClientBlameTests {
    @Test("a daemon closing its connection fails the last request sent as 'closed after this request', the others as closed")
    func theLastRequestIsBlamed() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let cid = try #require(try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])["CID"])
            let earlier = client.start("Filecoin.StateWaitMsg", [cid, 100, -1, true])
            let last = client.start("Filecoin.StateWaitMsg", [cid, 99, -1, true])
            await cluster.waitForWaiters(daemon: 0, count: 2)
            try await cluster.inject(.dropWebSockets, daemon: 0)
            await #expect(throws: LotusClientError.connectionClosed) { _ = try await earlier.result() }
            await #expect(throws: LotusClientError.closedAfterRequest) { _ = try await last.result() }
        }
    }

    @Test("a connection this side closes blames no request")
    func closingItselfBlamesNothing() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            let cid = try #require(try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])["CID"])
            let waiting = client.start("Filecoin.StateWaitMsg", [cid, 100, -1, true])
            await cluster.waitForWaiters(daemon: 0, count: 1)
            await client.close()
            await #expect(throws: LotusClientError.connectionClosed) { _ = try await waiting.result() }
        }
    }
}
