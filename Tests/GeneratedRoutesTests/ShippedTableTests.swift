// The compiled tables are exactly the shipped specs, and carry the facts routing relies on.

import APIGenCore
import Foundation
import GeneratedRoutes
import RouteModel
import Testing

@Suite struct ShippedTableTests {
    static let specDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appending(path: "api-spec")

    @Test(arguments: [APIVersion.v0, .v1])
    func compiledTableEqualsTheSpec(_ version: APIVersion) throws {
        let url = Self.specDirectory.appending(path: "\(version.rawValue).spec")
        let spec = try SpecParser().parse(try String(contentsOf: url, encoding: .utf8), file: url.path)
        #expect(RouteTable.entries(version) == spec.methods.map(\.entry))
        #expect(RouteTable.lotusRelease(version) == spec.lotusRelease)
    }

    @Test func v1FactsRoutingReliesOn() throws {
        #expect(Array(V1Method.stateGetActor.route.params) == [.address, .tipSetKey])
        #expect(V1Method.stateGetActor.route.retryTags == [.blockNotFound, .actorNotFound])
        #expect(Array(V1Method.chainGetTipSetByHeight.route.params) == [.epoch, .tipSetKey])
        #expect(V1Method.chainNotify.route.result == .channel)
        #expect(V1Method.mpoolSub.route.result == .channel)
        #expect(V1Method.mpoolPushMessage.route.effect == .push)
        #expect(V1Method.mpoolPushMessage.route.seed?.description == "p0.From")
        #expect(V1Method.mpoolBatchPush.route.seed?.description == "p0[0].Message.From")
        #expect(Array(V1Method.walletBalance.route.params) == [.address])
        #expect(V1Method.chainHead.route.policy == .fixed(.oneByChainHeadDesc))
        #expect(V1Method.stateGetActor.route.policy == .poolDefault)
        #expect(V1Method.id.route.name == "ID")
        #expect(V1Method.f3GetManifest.route.category == .f3)
        // Still served for v1.15 miners, marked with the release whose v1 API dropped it.
        #expect(V1Method.beaconGetEntry.route.removedIn == "v1.16.0")
        #expect(V1Method.chainHead.route.removedIn == nil)
        // A daemon-local filter is never read on a second daemon.
        #expect(V1Method.ethGetFilterChanges.route.effect == .write)
        // Served by v1.19 to v1.26 only: a miner of that age is routed, not refused.
        #expect(V1Method.raftLeader.route.removedIn == "v1.27.0")
    }

    @Test func v0KeepsItsOwnSignatures() {
        #expect(Array(V0Method.stateSearchMsg.route.params) == [.cid])
        #expect(V0Method.msigCreate.route.effect == .push)
        #expect(V1Method.msigCreate.route.effect == .read)
        #expect(V0Method.beaconGetEntry.route.removedIn == nil)
    }

    @Test func everyPushKnowsHowItIsBound() {
        for version in [APIVersion.v0, .v1] {
            for entry in RouteTable.entries(version) where entry.effect == .push {
                // Only eth raw transactions hide their sender inside a signature.
                #expect(entry.seed != nil || entry.name.hasPrefix("EthSendRawTransaction"), "\(version) \(entry.name)")
            }
        }
    }
}
