// Every method the simulator serves answers over both transports with Lotus-shaped results.

import LotusSim
import LotusWire
import FPoolTestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimMethodTests {
    @Test func identityMethods() async throws {
        try await withCluster { cluster in
            let client = try await cluster.client(1)
            let session = try await client.call("Filecoin.Session").string
            #expect(session == cluster.daemons[1].session)
            #expect(session?.count == 36)
            #expect(try await client.call("Filecoin.Version")["APIVersion"]?.int == 0x020300)
            let v0 = try await cluster.client(1, path: "/rpc/v0")
            #expect(try await v0.call("Filecoin.Version")["APIVersion"]?.int == 0x010500)
            #expect(try await client.call("Filecoin.ID").string?.hasPrefix("12D3KooW") == true)
        }
    }

    /// Every served method, with valid params, answers without error over WebSocket and HTTP.
    @Test func everyServedMethodAnswers() async throws {
        try await withCluster { cluster in
            cluster.advance(3)
            let client = try await cluster.client(0)
            let head = try await client.call("Filecoin.ChainHead")
            let key = try #require(head["Cids"])
            let block = try #require(key[0])
            let owner: JSON = .string(SimFixtures.accounts[0].id)
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            // Included at 4, executed (and so found) at 5.
            cluster.advance(2)
            let messageCID = try #require(pushed["CID"])
            let calls: [(String, [JSON])] = [
                ("Session", []), ("Version", []), ("ID", []), ("ChainHead", []), ("ChainGetGenesis", []), ("ChainGetTipSet", [key]),
                ("ChainGetTipSetByHeight", [2, []]), ("ChainGetBlock", [block]), ("ChainGetBlockMessages", [block]),
                ("ChainGetParentMessages", [block]), ("ChainGetParentReceipts", [block]), ("ChainReadObj", [block]),
                ("StateGetActor", [owner, key]), ("StateLookupID", [.string(SimFixtures.accounts[0].key), []]),
                ("StateAccountKey", [owner, []]), ("StateMinerInfo", ["f01000", []]), ("StateNetworkName", []),
                ("StateNetworkVersion", [[]]),
                ("StateSearchMsg", [[], messageCID, -1, true]), ("StateWaitMsg", [messageCID, 0, -1, true]), ("SyncState", []),
                ("NodeStatus", [false]), ("NetPeers", []), ("MpoolGetNonce", [owner]), ("MpoolPending", [[]]),
                ("GasEstimateMessageGas", [transfer(), nil, []]), ("WalletBalance", [owner]),
                ("WalletHas", [.string(SimFixtures.accounts[0].key)]),
                ("BeaconGetEntry", [2]), ("StateGetRandomnessFromBeacon", [2, 1, "", []]),
                ("StateGetRandomnessFromTickets", [2, 1, "", []]),
                ("StateMinerProvingDeadline", ["f01000", key]), ("StateMinerPartitions", ["f01000", 3, key]),
                ("StateMinerSectors", ["f01000", nil, key]), ("ChainHasObj", [block]), ("ChainGetTipSetAfterHeight", [2, []]),
            ]
            for (method, params) in calls {
                _ = try await client.call("Filecoin." + method, params)
                let response = try await cluster.http(0, "Filecoin." + method, params)
                #expect(response.status == 200)
                #expect(response.json?["error"] == nil, "\(method) over HTTP: \(response.json?.description ?? "")")
                #expect(response.json?["result"] != nil, "\(method)")
            }
            // Shapes a miner relies on.
            #expect(head["Height"]?.int == 3)
            // MpoolBatchPush of a message already pushed answers as Lotus does for a duplicate.
            #expect(
                try await rpcError { try await client.call("Filecoin.MpoolBatchPush", [[pushed]]) }?.message.contains("too low") == true)
            #expect(head["Blocks"]?.array?.count == head["Cids"]?.array?.count)
            #expect(try await client.call("Filecoin.SyncState")["ActiveSyncs"]?.array?.isEmpty == false)
            #expect(try await client.call("Filecoin.StateSearchMsg", [[], messageCID, -1, true])["Height"]?.int == 5)
            #expect(try await client.call("Filecoin.StateMinerInfo", ["f01000", []])["Worker"]?.string == SimFixtures.accounts[1].id)
            #expect(
                try await client.call("Filecoin.StateLookupID", [.string(SimFixtures.accounts[0].key), []]).string
                    == SimFixtures.accounts[0].id)
        }
    }

    /// What a lotus-miner's WindowPoSt loop reads: the deadline open at the head, its partitions,
    /// whether an object is there, and the tipset after a null round.
    @Test func minerLoopMethodsAnswerAsLotusShapesThem() async throws {
        try await withCluster { cluster in
            cluster.advance(130)
            let client = try await cluster.client(0)
            let deadline = try await client.call("Filecoin.StateMinerProvingDeadline", ["f01000", []])
            // Epoch 130 of a period opened at 0: deadline 2 (120…180), challenged at 100.
            #expect(deadline["Index"]?.int == 2 && deadline["Open"]?.int == 120 && deadline["Challenge"]?.int == 100)
            #expect(deadline["WPoStPeriodDeadlines"]?.int == 48)
            #expect(try await client.call("Filecoin.StateMinerPartitions", ["f01000", 2, []]).array?.count == 2)
            let beyond = try await rpcError { try await client.call("Filecoin.StateMinerPartitions", ["f01000", 48, []]) }
            #expect(beyond?.message == "invalid deadline 48")
            let notMiner = try await rpcError {
                try await client.call("Filecoin.StateMinerProvingDeadline", [.string(SimFixtures.accounts[0].id), []])
            }
            #expect(notMiner?.message.contains("actor code is not miner") == true)
            let head = try await client.call("Filecoin.ChainHead")
            #expect(try await client.call("Filecoin.ChainHasObj", [try #require(head["Cids"]?[0])]).bool == true)
            #expect(
                try await client.call("Filecoin.ChainHasObj", [["/": "bafy2bzaceanobjectnodaemonhasanobjectnodaemonhasanobjectaaaa"]]).bool
                    == false)
            // A null round at 131: the tipset after it is 132's, where ByHeight gives 130's.
            cluster.scheduleNullRounds(1)
            cluster.advance(2)
            #expect(try await client.call("Filecoin.ChainGetTipSetAfterHeight", [131, []])["Height"]?.int == 132)
            #expect(try await client.call("Filecoin.ChainGetTipSetByHeight", [131, []])["Height"]?.int == 130)
        }
    }

    @Test func cidsLookLikeLotusCIDs() async throws {
        try await withCluster(nodes: 1) { cluster in
            cluster.advance(1)
            let head = try await cluster.client().call("Filecoin.ChainHead")
            let cid = try #require(head["Cids"]?[0]?["/"]?.string)
            #expect(cid.hasPrefix("bafy2bzace"))
            #expect(cid.count == 62)
            #expect(head["Blocks"]?[0]?["Parents"]?.array?.isEmpty == false)
        }
    }

    @Test func protocolErrorsAreGoJsonrpcs() async throws {
        try await withCluster(nodes: 1) { cluster in
            let client = try await cluster.client()
            #expect(
                try await rpcError { try await client.call("Filecoin.Foo") }
                    == RPCError(code: -32601, message: "method 'Filecoin.Foo' not found"))
            // A real method the simulator does not serve answers as a daemon without it.
            #expect(try await rpcError { try await client.call("Filecoin.StateListMiners", [[]]) }?.code == -32601)
            #expect(
                try await rpcError { try await client.call("Filecoin.ChainHead", [1]) }
                    == RPCError(code: -32602, message: "wrong param count (method 'Filecoin.ChainHead'): 1 != 0"))
            #expect(try await rpcError { try await client.call("Filecoin.StateGetActor", [42, []]) }?.code == -32700)
            let notJSON = try await LotusHTTPClient.post(host: "127.0.0.1", port: cluster.daemons[0].port, body: Array("{nope".utf8))
            #expect(notJSON.json?["error"]?["code"]?.int == -32700)
            let channel = try await cluster.http(0, "Filecoin.ChainNotify")
            #expect(
                channel.json?["error"]?["message"]?.string
                    == "method 'Filecoin.ChainNotify' not supported in this mode (no out channel support)")
        }
    }

    @Test func lagTurnsIntoLotusNotFoundErrors() async throws {
        try await withCluster(nodes: 2) { cluster in
            try await cluster.inject(.lag(epochs: 2), daemon: 1)
            cluster.advance(5)
            let fresh = try await cluster.client(0)
            let lagging = try await cluster.client(1)
            #expect(try await lagging.call("Filecoin.ChainHead")["Height"]?.int == 3)
            let newest = try await fresh.call("Filecoin.ChainHead")
            let key = try #require(newest["Cids"])
            let error = try await rpcError { try await lagging.call("Filecoin.ChainGetTipSet", [key]) }
            let first = key[0]?["/"]?.string ?? ""
            #expect(error?.message.hasPrefix("loading tipset {\(first)") == true)
            #expect(error?.message.hasSuffix("ipld: could not find \(first)") == true)
            #expect(
                try await rpcError { try await lagging.call("Filecoin.ChainGetTipSetByHeight", [5, []]) }?.message
                    == "looking for tipset with height greater than start point")
            #expect(
                try await rpcError { try await lagging.call("Filecoin.ChainGetBlock", [try #require(key[0])]) }?.message
                    == "ipld: could not find \(first)")
            // An actor born at height 6 (state of 7) exists on the fresh node, not on the lagging one.
            let recipient = "f1sim2newactoraaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            _ = try await fresh.call("Filecoin.MpoolPushMessage", [transfer(to: recipient), nil])
            cluster.advance(2)
            let id = try await fresh.call("Filecoin.StateLookupID", [.string(recipient), []]).string
            #expect(id?.hasPrefix("f0") == true)
            let missing = try await rpcError { try await lagging.call("Filecoin.StateLookupID", [.string(recipient), []]) }
            #expect(
                missing
                    == RPCError(code: 11, message: "resolution lookup failed (\(recipient)): resolve address \(recipient): actor not found")
            )
            #expect(try await lagging.call("Filecoin.WalletBalance", [.string(recipient)]).string == "0")
        }
    }
}
