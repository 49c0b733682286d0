// Lotus-shaped JSON for the simulator's chain objects (field names and types as Lotus sends).

import LotusWire

enum SimJSON {
    static func cid(_ cid: String) -> JSON { ["/": .string(cid)] }

    static func key(_ cids: [String]) -> JSON { .array(cids.map(cid)) }

    static func block(_ block: SimBlock) -> JSON {
        let seed = block.cid
        return [
            "Miner": .string(block.miner),
            "Ticket": ["VRFProof": .string(SimIdentifiers.bytes("ticket:\(seed)", count: 96))],
            "ElectionProof": ["WinCount": 1, "VRFProof": .string(SimIdentifiers.bytes("election:\(seed)", count: 96))],
            "BeaconEntries": [
                ["Round": .int(block.height * 10 + 1000), "Data": .string(SimIdentifiers.bytes("beacon:\(block.height)", count: 96))]
            ],
            "WinPoStProof": [["PoStProof": 3, "ProofBytes": .string(SimIdentifiers.bytes("winpost:\(seed)", count: 192))]],
            "Parents": self.key(block.parents),
            "ParentWeight": .string(String(block.parentWeight)),
            "Height": .int(block.height),
            "ParentStateRoot": self.cid(SimIdentifiers.cid("state:\(block.height - 1)")),
            "ParentMessageReceipts": self.cid(SimIdentifiers.cid("receipts:\(block.height - 1)")),
            "Messages": self.cid(SimIdentifiers.cid("msgmeta:\(seed)")),
            "BLSAggregate": ["Type": 2, "Data": .string(SimIdentifiers.bytes("bls:\(seed)", count: 96))],
            "Timestamp": .int(Int64(block.timestamp)),
            "BlockSig": ["Type": 2, "Data": .string(SimIdentifiers.bytes("blocksig:\(seed)", count: 96))],
            "ForkSignaling": 0,
            "ParentBaseFee": "100",
        ]
    }

    static func tipset(_ tipset: SimTipSet) -> JSON {
        ["Cids": self.key(tipset.cids), "Blocks": .array(tipset.blocks.map(block)), "Height": .int(tipset.height)]
    }

    static func receipt(_ message: SimSignedMessage) -> JSON {
        ["ExitCode": 0, "Return": nil, "GasUsed": .int(message.message.gasLimit / 2), "EventsRoot": nil]
    }

    /// `MsgLookup`: the tipset that executed the message (the first after its inclusion, null
    /// rounds skipped, as Lotus reports it) and its receipt. The caller checks that tipset exists.
    static func lookup(_ inclusion: SimInclusion, chain: SimChainState) -> JSON {
        let executed = chain.tipset(above: inclusion.height)!
        return [
            "Message": self.cid(inclusion.message.cid), "Receipt": self.receipt(inclusion.message), "ReturnDec": nil,
            "TipSet": self.key(executed.cids), "Height": .int(executed.height),
        ]
    }
}
