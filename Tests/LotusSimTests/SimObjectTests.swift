// ChainReadObj's objects: block headers and actor states of Lotus's sizes, the same bytes for the
// same CID on every daemon and every call, and Lotus's error for a CID the daemon does not have.

import FPoolTestSupport
import Foundation
import LotusSim
import LotusWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimObjectTests {
    /// The decoded bytes ChainReadObj answers for `cid`.
    func read(_ client: LotusWSClient, _ cid: JSON) async throws -> Data {
        let text = try #require(try await client.call("Filecoin.ChainReadObj", [cid]).string)
        return try #require(Data(base64Encoded: text))
    }

    @Test func headersAndActorStatesHaveLotusSizes() async throws {
        try await withCluster(nodes: 1) { cluster in
            cluster.advance(6)
            let client = try await cluster.client()
            var headerSizes: Set<Int> = []
            for height in 1...6 {
                let tipset = try await client.call("Filecoin.ChainGetTipSetByHeight", [.int(Int64(height)), []])
                for cid in tipset["Cids"]?.array ?? [] { headerSizes.insert(try await self.read(client, cid).count) }
            }
            var minerSizes: Set<Int> = []
            for miner in SimFixtures.miners {
                let head = try #require(try await client.call("Filecoin.StateGetActor", [.string(miner), []])["Head"])
                minerSizes.insert(try await self.read(client, head).count)
            }
            var accountSizes: Set<Int> = []
            for account in SimFixtures.accounts {
                let head = try #require(try await client.call("Filecoin.StateGetActor", [.string(account.id), []])["Head"])
                accountSizes.insert(try await self.read(client, head).count)
            }
            #expect(headerSizes.allSatisfy { (512...1023).contains($0) }, "\(headerSizes)")
            #expect(minerSizes.allSatisfy { (2048..<(48 * 1024)).contains($0) }, "\(minerSizes)")
            #expect(accountSizes.allSatisfy { (200...599).contains($0) }, "\(accountSizes)")
            // Varied, not one size per kind.
            #expect(headerSizes.count > 1 && minerSizes.count > 1 && accountSizes.count > 1)
        }
    }

    @Test func theSameCIDGivesTheSameBytesOnEveryDaemonAndCall() async throws {
        try await withCluster(nodes: 2) { cluster in
            cluster.advance(2)
            let first = try await cluster.client(0)
            let second = try await cluster.client(1)
            let block = try #require(try await first.call("Filecoin.ChainHead")["Cids"]?[0])
            let miner = try #require(try await first.call("Filecoin.StateGetActor", ["f01001", []])["Head"])
            for cid in [block, miner] {
                let bytes = try await self.read(first, cid)
                #expect(try await self.read(first, cid) == bytes)
                #expect(try await self.read(second, cid) == bytes)
                let overHTTP = try await cluster.http(1, "Filecoin.ChainReadObj", [cid]).json?["result"]?.string
                #expect(overHTTP == bytes.base64EncodedString())
                #expect(try await first.call("Filecoin.ChainHasObj", [cid]).bool == true)
            }
        }
    }

    @Test func aCIDTheDaemonDoesNotHaveIsLotussMissingBlockError() async throws {
        try await withCluster(nodes: 2) { cluster in
            try await cluster.inject(.lag(epochs: 2), daemon: 1)
            cluster.advance(4)
            let fresh = try await cluster.client(0)
            let lagging = try await cluster.client(1)
            let unknown: JSON = ["/": "bafy2bzaceanobjectnodaemonhasanobjectnodaemonhasanobjectaaaa"]
            let missing = try await rpcError { try await fresh.call("Filecoin.ChainReadObj", [unknown]) }
            #expect(missing == RPCError(code: 1, message: "blockstore get: ipld: could not find \(unknown["/"]?.string ?? "")"))
            #expect(try await fresh.call("Filecoin.ChainHasObj", [unknown]).bool == false)
            // A header above the lagging daemon's head is not in its blockstore yet.
            let newest = try #require(try await fresh.call("Filecoin.ChainHead")["Cids"]?[0])
            #expect(
                try await rpcError { try await lagging.call("Filecoin.ChainReadObj", [newest]) }?.message.contains("could not find") == true
            )
            _ = try await self.read(fresh, newest)
        }
    }
}
