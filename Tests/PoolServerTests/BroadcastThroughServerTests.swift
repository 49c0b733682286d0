// A signed MpoolPush broadcast through fpool (AllWithFirstSucceed): each simulated daemon gets
// it from fpool itself, and the message lands on chain once.

import LotusSim
import LotusWire
import PoolRuntime
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct BroadcastThroughServerTests {
    @Test func aSignedPushReachesEveryDaemonsMpoolOnceAndLandsOnChainOnce() async throws {
        try await withServedPool { served in
            let set = try await served.admin("APISet", ["MpoolPush", "policy", "AllWithFirstSucceed"])
            #expect(set["Policy"]?.string == "AllWithFirstSucceed")
            // No daemon passes messages on: whatever reaches a daemon's mpool came from fpool.
            for daemon in 0..<3 { try await served.cluster.inject(.peers(message: 0, block: 5), daemon: daemon) }
            let client = try await served.client()
            let sender = SimFixtures.accounts[0].key
            let nonce = try #require(try await client.call("Filecoin.MpoolGetNonce", [.string(sender)]).int)
            let message: JSON = [
                "Version": 0, "To": "f1sim2recipientaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "From": .string(sender), "Nonce": .int(nonce),
                "Value": "1", "GasLimit": 1_000_000, "GasFeeCap": "100000", "GasPremium": "1000", "Method": 0, "Params": "",
            ]
            let signed = try SimWallet.sign(message)
            let cid = try #require(signed["CID"]?["/"]?.string)
            let answer = try await client.call("Filecoin.MpoolPush", [signed])
            #expect(answer["/"]?.string == cid)
            // Every daemon answers, and fpool logs each answer.
            for daemon in served.cluster.daemons {
                await served.logs.waitForLine(containing: "broadcast Filecoin.MpoolPush to \(daemon.name): accepted")
            }
            for (index, daemon) in served.cluster.daemons.enumerated() {
                let direct = try await LotusWSClient.connect(
                    host: "127.0.0.1", port: daemon.port, path: "/rpc/v1", token: daemon.adminToken)
                let pending = try await direct.call("Filecoin.MpoolPending", [nil]).array ?? []
                #expect(pending.filter { $0["CID"]?["/"]?.string == cid }.count == 1, "daemon \(index)")
                await direct.close()
            }
            // On chain once, once the daemons have peers again: the sender's nonce moves by one.
            for daemon in 0..<3 { try await served.cluster.inject(.peers(message: 5, block: 5), daemon: daemon) }
            served.cluster.propagateNow()
            served.cluster.advance(2)
            #expect(served.cluster.inclusionHeight(of: cid) != nil)
            #expect(try await client.call("Filecoin.MpoolGetNonce", [.string(sender)]).int == nonce + 1)
            await client.close()
        }
    }

    @Test func apiSetRefusesToBroadcastAMessageEachDaemonWouldSign() async throws {
        try await withServedPool { served in
            let refused = try await rpcError { try await served.admin("APISet", ["MpoolPushMessage", "policy", "AllWithFirstSucceed"]) }
            #expect(refused?.message.hasPrefix("MpoolPushMessage cannot take AllWithFirstSucceed") == true)
            let list = try await served.admin("APIList", ["v1"])
            #expect(list["Overrides"]?["MpoolPushMessage"] == nil || list["Overrides"]?["MpoolPushMessage"]?["Policy"]?.string == "default")
        }
    }
}
