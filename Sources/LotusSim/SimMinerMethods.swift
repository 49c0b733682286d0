// The answers a lotus-miner's WindowPoSt and sealing loops read, shaped and sized as Lotus's:
// the proving deadline (from mainnet's proving-period constants), a deadline's partitions, and a
// small sector list. Enough for the pool's routing, caching and benchmarks; no proof logic, and
// the partitions' bitfields are opaque base64 that nothing here decodes.

import LotusWire

enum SimMinerMethods {
    /// Mainnet's WindowPoSt constants (Lotus `dline.Info`).
    static let provingPeriod: Int64 = 2880
    static let deadlines: Int64 = 48
    static let challengeWindow: Int64 = 60
    static let challengeLookback: Int64 = 20
    static let faultCutoff: Int64 = 70

    /// `dline.Info` at `epoch`, the miner's proving period starting at epoch 0.
    static func provingDeadline(at epoch: Int64) -> JSON {
        let periodStart = epoch - epoch % Self.provingPeriod
        let index = (epoch - periodStart) / Self.challengeWindow
        let open = periodStart + index * Self.challengeWindow
        return [
            "CurrentEpoch": .int(epoch), "PeriodStart": .int(periodStart), "Index": .int(index), "Open": .int(open),
            "Close": .int(open + Self.challengeWindow), "Challenge": .int(open - Self.challengeLookback),
            "FaultCutoff": .int(open - Self.faultCutoff), "WPoStPeriodDeadlines": .int(Self.deadlines),
            "WPoStProvingPeriod": .int(Self.provingPeriod), "WPoStChallengeWindow": .int(Self.challengeWindow),
            "WPoStChallengeLookback": .int(Self.challengeLookback), "FaultDeclarationCutoff": .int(Self.faultCutoff),
        ]
    }

    /// A deadline's partitions: two, of 2349 sectors each (a 32 GiB miner's full partition), none faulty.
    ///
    /// - Throws: Lotus's error for a deadline index past 47.
    static func partitions(deadline: Int64) throws(RPCError) -> JSON {
        guard (0..<Self.deadlines).contains(deadline) else {
            throw RPCError(code: 1, message: "invalid deadline \(deadline)")
        }
        // Opaque stand-ins for go-bitfield's RLE+ (base64 in Lotus's JSON): no client here decodes them.
        let full = "DAr2EQ=="
        let empty = "AA=="
        let partition: JSON = [
            "AllSectors": .string(full), "FaultySectors": .string(empty), "RecoveringSectors": .string(empty),
            "LiveSectors": .string(full), "ActiveSectors": .string(full),
        ]
        return [partition, partition]
    }

    /// A few sectors of `miner`, shaped as `miner.SectorOnChainInfo`.
    static func sectors(miner: String) -> JSON {
        .array(
            (0..<4).map { number in
                [
                    "SectorNumber": .int(Int64(number)), "SealProof": 8,
                    "SealedCID": SimJSON.cid(SimIdentifiers.cid("sealed:\(miner):\(number)")), "DealIDs": nil, "Activation": 10,
                    "Expiration": 1_555_200, "DealWeight": "0", "VerifiedDealWeight": "0",
                    "InitialPledge": "5000000000000000000", "ExpectedDayReward": "20000000000000000",
                    "ExpectedStoragePledge": "400000000000000000", "PowerBaseEpoch": 10, "ReplacedDayReward": "0", "SectorKeyCID": nil,
                    "Flags": 0,
                ]
            })
    }
}
