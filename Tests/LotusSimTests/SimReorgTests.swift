// Reorgs: ChainNotify's revert-then-apply, heads and height lookups on the new branch, orphaned
// tipsets still readable with their own state, and daemons that were behind or paused.

import FPoolTestSupport
import LotusSim
import LotusWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct SimReorgTests {
    @Test(arguments: [false, true])
    func chainNotifyRevertsTheOrphansThenAppliesTheNewBranch(longer: Bool) async throws {
        try await withCluster(nodes: 2) { cluster in
            cluster.advance(5)
            let client = try await cluster.client(0)
            let notify = try await client.subscribe("Filecoin.ChainNotify")
            let before = try await client.call("Filecoin.ChainHead")
            let reorg = cluster.reorg(depth: 2, longer: longer)
            #expect(reorg.forkHeight == 4)
            #expect(reorg.orphaned.map(\.height) == [5, 4])
            #expect(reorg.applied.map(\.height) == (longer ? [4, 5, 6] : [4, 5]))

            // One value, as Lotus sends it: the orphans newest first, then the new branch.
            let changes = try #require(await next(2, of: notify)[1].array)
            #expect(changes.compactMap { $0["Type"]?.string } == ["revert", "revert"] + reorg.applied.map { _ in "apply" })
            #expect(changes.compactMap { $0["Val"]?["Height"]?.int } == [5, 4] + reorg.applied.map(\.height))
            #expect(changes.compactMap { $0["Val"]?["Cids"] } == (reorg.orphaned + reorg.applied).map(\.json))
            #expect(changes[0]["Val"]?["Cids"] == before["Cids"])

            let newHead = try #require(reorg.applied.last)
            for daemon in 0..<2 {
                let daemonClient = try await cluster.client(daemon)
                let head = try await daemonClient.call("Filecoin.ChainHead")
                #expect(head["Cids"] == newHead.json && head["Height"]?.int == newHead.height)
                for key in [newHead.json, []] {
                    let atFork = try await daemonClient.call("Filecoin.ChainGetTipSetByHeight", [4, key])
                    #expect(atFork["Cids"] == reorg.applied[0].json)
                }
            }
            // Siblings: the same parent at the fork, and the new branch is heavier.
            let orphanAtFork = try await client.call("Filecoin.ChainGetTipSet", [reorg.orphaned[1].json])
            let newAtFork = try await client.call("Filecoin.ChainGetTipSet", [reorg.applied[0].json])
            #expect(orphanAtFork["Blocks"]?[0]?["Parents"] == newAtFork["Blocks"]?[0]?["Parents"])
            let newFive = try await client.call("Filecoin.ChainGetTipSet", [reorg.applied[1].json])
            let weight = { (tipset: JSON) in UInt64(tipset["Blocks"]?[0]?["ParentWeight"]?.string ?? "") ?? 0 }
            #expect(weight(newFive) > weight(before))
            #expect(newAtFork["Blocks"]?.array?.count == min(4, (orphanAtFork["Blocks"]?.array?.count ?? 0) + 1))
        }
    }

    @Test func orphanedTipsetsStayReadableWithTheirOwnState() async throws {
        try await withCluster(nodes: 1) { cluster in
            cluster.advance(3)
            let client = try await cluster.client()
            let pushed = try await client.call("Filecoin.MpoolPushMessage", [transfer(), nil])
            let messageCID = try #require(pushed["CID"]?["/"]?.string)
            cluster.advance(2)
            #expect(cluster.inclusionHeight(of: messageCID) == 4)
            // 3, 4 and 5 replaced: the new 3 includes the message again, one epoch lower.
            let reorg = cluster.reorg(depth: 3)
            #expect(cluster.inclusionHeight(of: messageCID) == 3)
            #expect(try await client.call("Filecoin.StateSearchMsg", [[], pushed["CID"]!, -1, true])["Height"]?.int == 4)

            for (orphan, replacement) in zip(reorg.orphaned.reversed(), reorg.applied) {
                #expect(orphan.height == replacement.height && orphan.cids != replacement.cids)
                let tipset = try await client.call("Filecoin.ChainGetTipSet", [orphan.json])
                #expect(tipset["Cids"] == orphan.json && tipset["Height"]?.int == orphan.height)
                #expect(try await client.call("Filecoin.ChainGetBlock", [orphan.json[0]!])["Height"]?.int == orphan.height)
                let info = try await client.call("Filecoin.StateMinerInfo", ["f01000", orphan.json])
                #expect(info["Worker"]?.string == SimFixtures.accounts[1].id)
                // A state read at a fixed key answers the same every time, orphaned or not; the
                // miner that won a block on both branches has two different states.
                let atOrphan = try await client.call("Filecoin.StateGetActor", ["f01000", orphan.json])
                #expect(try await client.call("Filecoin.StateGetActor", ["f01000", orphan.json]) == atOrphan)
                let atReplacement = try await client.call("Filecoin.StateGetActor", ["f01000", replacement.json])
                #expect(atOrphan["Head"] != atReplacement["Head"])
                let epoch = JSON.int(orphan.height)
                let ticketsAtOrphan = try await client.call("Filecoin.StateGetRandomnessFromTickets", [2, epoch, "", orphan.json])
                let ticketsAtReplacement = try await client.call(
                    "Filecoin.StateGetRandomnessFromTickets", [2, epoch, "", replacement.json])
                #expect(ticketsAtOrphan != ticketsAtReplacement)
                let beaconAtOrphan = try await client.call("Filecoin.StateGetRandomnessFromBeacon", [2, epoch, "", orphan.json])
                #expect(try await client.call("Filecoin.StateGetRandomnessFromBeacon", [2, epoch, "", replacement.json]) == beaconAtOrphan)
            }
            // The sender's nonce at 3: before its message on the orphaned branch, after it on the new.
            let sender = JSON.string(SimFixtures.accounts[0].id)
            #expect(try await client.call("Filecoin.StateGetActor", [sender, reorg.orphaned[2].json])["Nonce"]?.int == 0)
            #expect(try await client.call("Filecoin.StateGetActor", [sender, reorg.applied[0].json])["Nonce"]?.int == 1)
            // Lookups from an orphaned key walk down its own branch, and its blocks keep their messages.
            let fromOrphan = try await client.call("Filecoin.ChainGetTipSetByHeight", [3, reorg.orphaned[0].json])
            #expect(fromOrphan["Cids"] == reorg.orphaned[2].json)
            let orphanedFour = try #require(reorg.orphaned[1].json[0])
            #expect(try await client.call("Filecoin.ChainGetBlockMessages", [orphanedFour])["Cids"]?.array?.count == 1)
            let orphanedFive = try #require(reorg.orphaned[0].json[0])
            #expect(try await client.call("Filecoin.ChainGetParentMessages", [orphanedFive]).array?.count == 1)
        }
    }

    @Test func aDaemonBehindNeverSawTheOrphansAndAPausedOneFollowsWhenItSyncsAgain() async throws {
        try await withCluster(nodes: 3) { cluster in
            try await cluster.inject(.lag(epochs: 2), daemon: 1)
            cluster.advance(5)
            try await cluster.inject(.pauseSync(true), daemon: 2)
            let lagging = try await cluster.client(1)
            let laggingNotify = try await lagging.subscribe("Filecoin.ChainNotify")
            let paused = try await cluster.client(2)
            let pausedNotify = try await paused.subscribe("Filecoin.ChainNotify")

            let reorg = cluster.reorg(depth: 1)
            let orphan = try #require(reorg.orphaned.first)
            // The lagging daemon (at 3) never had the orphaned 5: Lotus's not-found errors.
            let missing = try await rpcError { try await lagging.call("Filecoin.ChainGetTipSet", [orphan.json]) }
            #expect(missing == LotusErrorText.tipSetNotFound(orphan.cids))
            #expect(try await rpcError { try await lagging.call("Filecoin.StateGetActor", ["f01000", orphan.json]) } == missing)
            // The paused daemon keeps its orphaned head, and answers for it, until it syncs.
            #expect(try await paused.call("Filecoin.ChainHead")["Cids"] == orphan.json)
            #expect(try await paused.call("Filecoin.StateGetActor", ["f01000", []])["Head"] != nil)

            cluster.advance(2)
            // The lagging daemon simply applies the new branch: nothing of it was reverted.
            let laggingValues = await next(3, of: laggingNotify)
            #expect(laggingValues.dropFirst().flatMap { $0.array ?? [] }.compactMap { $0["Type"]?.string } == ["apply", "apply"])
            #expect(laggingValues[2][0]?["Val"]?["Cids"] == reorg.applied[0].json)

            try await cluster.inject(.pauseSync(false), daemon: 2)
            let changes = try #require(await next(2, of: pausedNotify)[1].array)
            #expect(changes.compactMap { $0["Type"]?.string } == ["revert", "apply", "apply", "apply"])
            #expect(changes.compactMap { $0["Val"]?["Height"]?.int } == [5, 5, 6, 7])
            #expect(changes[1]["Val"]?["Cids"] == reorg.applied[0].json)
            #expect(try await paused.call("Filecoin.ChainGetTipSet", [orphan.json])["Height"]?.int == 5)
        }
    }
}
