// The FullNode methods a simulated daemon serves, with Lotus's answers and error texts.

import LotusWire
import RouteModel

/// Calls the simulator answers; any other method is "not found", as on a daemon without it.
enum SimMethods {
    static let served: Set<String> = [
        "Session", "Version", "ID", "ChainHead", "ChainNotify", "ChainGetGenesis", "ChainGetTipSet", "ChainGetTipSetByHeight",
        "ChainGetBlock", "ChainGetBlockMessages", "ChainGetParentMessages", "ChainGetParentReceipts", "ChainReadObj",
        "StateGetActor", "StateLookupID", "StateAccountKey", "StateMinerInfo", "StateNetworkName", "StateNetworkVersion", "StateSearchMsg",
        "StateWaitMsg", "SyncState", "NodeStatus", "NetPeers", "MpoolGetNonce", "MpoolPush", "MpoolPushMessage",
        "MpoolBatchPush", "MpoolPending", "MpoolSub", "GasEstimateMessageGas", "WalletBalance", "WalletHas",
        "BeaconGetEntry", "StateGetRandomnessFromBeacon", "StateGetRandomnessFromTickets",
        // What a lotus-miner's WindowPoSt and sealing loops ask (SimMinerMethods).
        "StateMinerProvingDeadline", "StateMinerPartitions", "StateMinerSectors", "ChainHasObj", "ChainGetTipSetAfterHeight",
    ]

    /// Answers a plain (non-channel) call on `daemon`.
    static func call(_ name: String, _ values: [JSON], version: APIVersion, world: SimWorld, daemon: Int) async throws -> JSON {
        let params = SimParams(method: name, values: values)
        switch name {
        case "StateWaitMsg":
            let cid = try params.cid(0)
            let confidence = max(0, try params.int(1))
            guard world.knows(cid, daemon: daemon) else { throw LotusErrorText.messageNotFound(cid) }
            return try await world.waitForMessage(cid: cid, confidence: confidence, daemon: daemon)
        case "MpoolPush":
            return SimJSON.cid(
                try world.push(try SimSignedMessage(json: values[0], method: "Filecoin.MpoolPush", param: 0), daemon: daemon))
        case "MpoolBatchPush":
            guard let items = values[0].array else { throw params.bad(0, "expected an array of signed messages") }
            var cids: [JSON] = []
            for item in items {
                cids.append(
                    SimJSON.cid(
                        try world.push(try SimSignedMessage(json: item, method: "Filecoin.MpoolBatchPush", param: 0), daemon: daemon)))
            }
            return .array(cids)
        case "MpoolPushMessage":
            return try world.pushMessage(try SimMessage(json: values[0], method: "Filecoin.MpoolPushMessage", param: 0), daemon: daemon)
                .json
        case "MpoolGetNonce":
            return .int(Int64(try world.nonce(of: try params.address(0), daemon: daemon)))
        case "MpoolPending":
            return .array(world.pending(daemon: daemon).map(\.json))
        default:
            if SimReadCost.methods.contains(name) { world.payReadCost(daemon: daemon) }
            return try world.state.withLock { state in try self.read(name, params, version: version, state: state, daemon: daemon) }
        }
    }

    /// Calls that only read the world.
    private static func read(_ name: String, _ params: SimParams, version: APIVersion, state: SimWorld.State, daemon index: Int) throws
        -> JSON
    {
        let daemon = state.daemons[index]
        let chain = state.chain
        let view = daemon.head
        let head = state.headTipSet(daemon: index)
        let synced = state.syncedHeight(daemon: index)
        // A daemon of another network knows only that network's tipsets and blocks; its state
        // answers still come from the cluster's chain beneath them.
        let foreign = state.foreignChain(daemon: index)

        /// What this daemon shows for a tipset of the cluster's chain.
        func shown(_ tipset: SimTipSet) -> SimTipSet { foreign?.tipset(over: tipset) ?? tipset }

        /// The cluster's tipset behind the one a key names, if this daemon has synced it on the
        /// network it follows (orphaned ones included); the head for an empty key.
        func tipset(_ position: Int) throws -> SimTipSet {
            let cids = try params.tipSetKey(position)
            if cids.isEmpty { return head }
            let found =
                if let foreign { foreign.underlying(cids: cids, chain: chain, view: synced) } else {
                    state.syncedTipSet(cids: cids, daemon: index)
                }
            guard let found else { throw LotusErrorText.tipSetNotFound(cids) }
            return found
        }
        /// A block this daemon has synced, on the network it follows, and the cluster's tipset it
        /// belongs to (nil on another network, whose blocks carry no messages).
        func block(_ cid: String) throws -> (block: SimBlock, tipset: SimTipSet?) {
            if let foreign {
                guard let found = foreign.block(cid: cid, chain: chain, view: synced) else { throw LotusErrorText.blockNotFound(cid) }
                return (found, nil)
            }
            guard let found = state.syncedBlock(cid: cid, daemon: index) else { throw LotusErrorText.blockNotFound(cid) }
            return (found.block, found.tipset)
        }
        func actor(_ address: String, at tipset: SimTipSet) throws -> (id: String, record: SimActorRecord, state: SimActorState) {
            guard let id = chain.resolve(address, at: tipset.height), let record = chain.record(id),
                let actorState = chain.state(of: id, at: tipset)
            else { throw LotusErrorText.actorNotFound(address) }
            return (id, record, actorState)
        }
        func randomness(_ kind: String) throws -> JSON {
            let epoch = try params.int(1)
            let base = try tipset(3)
            guard epoch <= base.height else { throw RPCError(code: 1, message: "cannot draw randomness from the future") }
            // Tickets come from the branch `base` ends, as Lotus draws them: two branches give
            // different randomness at an epoch they do not share. Drand's beacon is the same on all.
            let ticket = kind == "tickets" ? ":" + chain.tipset(atOrBelow: max(0, epoch), on: base).cids[0] : ""
            return .string(SimIdentifiers.bytes("\(kind):\(try params.int(0)):\(epoch):\(params.values[2])\(ticket)"))
        }

        switch name {
        case "Session":
            return .string(daemon.session)
        case "Version":
            // v1 FullNode API 2.3.0 (0x020300) and v0 1.5.0, as Lotus v1.36 reports them.
            return [
                "Version": "1.36.1+sim", "APIVersion": .int(version == .v1 ? 0x020300 : 0x010500),
                "BlockDelay": .int(Int64(chain.blockSeconds)),
            ]
        case "ID":
            return .string(daemon.peerID)
        case "ChainHead":
            return SimJSON.tipset(shown(head))
        case "ChainGetGenesis":
            return SimJSON.tipset(state.genesis(daemon: index))
        case "ChainGetTipSet":
            return SimJSON.tipset(shown(try tipset(0)))
        case "ChainGetTipSetByHeight":
            let height = try params.int(0)
            let base = try tipset(1)
            guard height <= shown(base).height else { throw LotusErrorText.heightAboveHead }
            guard height >= 0 else { throw RPCError(code: 1, message: "looking for tipset with negative height") }
            // A null round answers the tipset below it (Lotus's GetTipsetByHeight, prev = true).
            if let foreign { return SimJSON.tipset(foreign.tipset(atOrBelow: height, chain: chain, view: base.height)) }
            return SimJSON.tipset(chain.tipset(atOrBelow: height, on: base))
        case "ChainGetBlock":
            return SimJSON.block(try block(try params.cid(0)).block)
        case "ChainReadObj":
            let cid = try params.cid(0)
            // Every daemon holds every actor state the network made (the simulator does not
            // track which states a lagging daemon has computed); block headers it has synced.
            if let kind = SimObjects.stateKind(of: cid) { return .string(SimObjects.bytes(of: cid, kind: kind)) }
            guard (try? block(cid)) != nil else {
                throw RPCError(code: 1, message: "blockstore get: " + LotusErrorText.blockNotFound(cid).message)
            }
            return .string(SimObjects.bytes(of: cid, kind: .blockHeader))
        case "ChainGetBlockMessages":
            let (block, tipset) = try block(try params.cid(0))
            // The first block of a tipset carries its messages (another network's carry none).
            let messages = tipset?.blocks.first == block ? tipset?.messages ?? [] : []
            return ["BlsMessages": [], "SecpkMessages": .array(messages.map(\.json)), "Cids": .array(messages.map { SimJSON.cid($0.cid) })]
        case "ChainGetParentMessages", "ChainGetParentReceipts":
            let (block, tipset) = try block(try params.cid(0))
            // The parent is the tipset below on the block's own branch, null rounds skipped.
            let parentMessages = tipset == nil ? [] : chain.anyTipSet(cids: block.parents)?.messages ?? []
            if name == "ChainGetParentReceipts" { return .array(parentMessages.map(SimJSON.receipt)) }
            return .array(parentMessages.map { ["Cid": SimJSON.cid($0.cid), "Message": $0.message.json] })
        case "StateGetActor":
            let found = try actor(try params.address(0), at: try tipset(1))
            return [
                "Code": SimJSON.cid(found.record.code),
                "Head": SimJSON.cid(SimObjects.head(id: found.id, code: found.record.code, state: found.state)),
                "Nonce": .int(Int64(found.state.nonce)), "Balance": .string(String(found.state.balance)), "DelegatedAddress": nil,
            ]
        case "StateLookupID":
            return .string(try actor(try params.address(0), at: try tipset(1)).id)
        case "StateAccountKey":
            let found = try actor(try params.address(0), at: try tipset(1))
            guard let key = found.record.key else {
                throw RPCError(code: 1, message: "failed to get account actor state: actor code is not account")
            }
            return .string(key)
        case "StateMinerProvingDeadline", "StateMinerPartitions", "StateMinerSectors":
            let at = try tipset(name == "StateMinerProvingDeadline" ? 1 : 2)
            let found = try actor(try params.address(0), at: at)
            guard found.record.code == SimFixtures.minerCode else {
                throw RPCError(code: 1, message: "failed to load miner actor: actor code is not miner")
            }
            switch name {
            case "StateMinerProvingDeadline": return SimMinerMethods.provingDeadline(at: at.height)
            case "StateMinerPartitions": return try SimMinerMethods.partitions(deadline: try params.int(1))
            default: return SimMinerMethods.sectors(miner: found.id)
            }
        case "ChainHasObj":
            // What ChainReadObj would answer with bytes.
            let cid = try params.cid(0)
            return .bool(SimObjects.stateKind(of: cid) != nil || (try? block(cid)) != nil)
        case "ChainGetTipSetAfterHeight":
            let height = try params.int(0)
            let base = try tipset(1)
            guard height <= shown(base).height else { throw LotusErrorText.heightAboveHead }
            guard height >= 0 else { throw RPCError(code: 1, message: "looking for tipset with negative height") }
            // A null round answers the tipset above it (prev = false). Another network's heights
            // stand 1000 above the cluster's: its first tipset after genesis is over the cluster's.
            let offset = foreign == nil ? 0 : SimForeignChain.heightOffset
            let underlying = height == 0 ? 0 : max(1, height - offset)
            return SimJSON.tipset(shown(chain.tipset(atOrAbove: underlying, on: base)))
        case "StateMinerInfo":
            let address = try params.address(0)
            let found = try actor(address, at: try tipset(1))
            guard found.record.code == SimFixtures.minerCode else {
                throw RPCError(code: 1, message: "failed to load miner actor: actor code is not miner")
            }
            return [
                "Owner": .string(SimFixtures.accounts[0].id), "Worker": .string(SimFixtures.accounts[1].id), "NewWorker": "<empty>",
                "ControlAddresses": [.string(SimFixtures.accounts[2].id)], "WorkerChangeEpoch": -1, "PeerId": .string(daemon.peerID),
                "Multiaddrs": [], "WindowPoStProofType": 13, "SectorSize": 34_359_738_368, "WindowPoStPartitionSectors": 2349,
                "ConsensusFaultElapsed": -1, "PendingOwnerAddress": nil, "Beneficiary": .string(SimFixtures.accounts[0].id),
                "BeneficiaryTerm": ["Quota": "0", "UsedQuota": "0", "Expiration": 0], "PendingBeneficiaryTerm": nil,
            ]
        case "StateNetworkName":
            return .string(state.networkName(daemon: index))
        case "StateNetworkVersion":
            _ = try tipset(0)
            return 27
        case "StateSearchMsg":
            // v0: (cid); v1: (from tipset, cid, limit, allowReplaced).
            let cid = try params.cid(version == .v0 ? 0 : 1)
            if version == .v1 { _ = try tipset(0) }
            if let inclusion = chain.inclusion(of: cid), let executed = chain.tipset(above: inclusion.height), executed.height <= view {
                return SimJSON.lookup(inclusion, chain: chain)
            }
            guard SimWorld.knows(state, cid, daemon: index) else { throw LotusErrorText.messageNotFound(cid) }
            return nil
        case "SyncState":
            let caughtUp = !daemon.syncPaused && daemon.orphanedHead == nil && view == chain.height
            return [
                "ActiveSyncs": [
                    [
                        "WorkerID": 1, "Base": SimJSON.tipset(shown(head)), "Target": SimJSON.tipset(shown(caughtUp ? head : chain.head)),
                        // Lotus stages: 4 = complete, 3 = fetching messages (still catching up).
                        "Stage": .int(caughtUp ? 4 : 3), "Height": .int(shown(head).height), "Start": "2026-11-25T00:00:00Z",
                        "End": "0001-01-01T00:00:00Z",
                        "Message": "",
                    ]
                ],
                "VMApplied": 0,
            ]
        case "NodeStatus":
            // Behind from the head's age (as Lotus) or the true lag, as the cluster is configured.
            return [
                "SyncStatus": ["Epoch": .int(shown(head).height), "Behind": .int(state.behind(daemon: index))],
                "PeerStatus": [
                    "PeersToPublishMsgs": .int(Int64(daemon.messagePeers)), "PeersToPublishBlocks": .int(Int64(daemon.blockPeers)),
                ],
                "ChainStatus": ["BlocksPerTipsetLast100": 2, "BlocksPerTipsetLastFinality": 2],
            ]
        case "NetPeers":
            let count = max(daemon.messagePeers, daemon.blockPeers)
            return .array(
                (0..<count).map { peer in
                    [
                        "ID": .string(SimIdentifiers.peerID("peer-\(index)-\(peer)")),
                        "Addrs": [.string("/ip4/127.0.0.1/tcp/\(40_000 + peer)")],
                    ]
                })
        case "GasEstimateMessageGas":
            let message = try SimMessage(json: params.values[0], method: "Filecoin.GasEstimateMessageGas", param: 0)
            _ = try tipset(2)
            return message.withGasDefaults().json
        case "WalletBalance":
            let address = try params.address(0)
            // Lotus answers 0 for an address with no actor yet.
            guard let found = try? actor(address, at: head) else { return "0" }
            return .string(String(found.state.balance))
        case "WalletHas":
            let address = try params.address(0)
            let key = chain.resolve(address, at: view).flatMap { chain.record($0)?.key } ?? address
            return .bool(daemon.wallet.contains(key))
        case "BeaconGetEntry":
            let epoch = try params.int(0)
            return ["Round": .int(epoch * 10 + 1000), "Data": .string(SimIdentifiers.bytes("beacon:\(epoch)", count: 96))]
        case "StateGetRandomnessFromBeacon":
            return try randomness("beacon")
        case "StateGetRandomnessFromTickets":
            return try randomness("tickets")
        default:
            throw RPCError.methodNotFound("Filecoin." + name)
        }
    }
}
