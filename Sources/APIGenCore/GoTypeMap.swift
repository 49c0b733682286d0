// Maps the Go parameter types of Lotus's OpenRPC documents to routing param kinds.

import RouteModel

/// Every Go type seen in the v1.15.1 and v1.36.1 FullNode documents, mapped deliberately:
/// to the kind routing cares about, or to `other` on purpose. A type missing here is
/// reported by name on import, so a Lotus bump that adds one forces a decision.
public enum GoTypeMap {
    public static func kind(of goType: String) -> ParamKind? {
        if let kind = Self.routed[goType] { return kind }
        return Self.deliberatelyOther.contains(goType) ? .other : nil
    }

    static let routed: [String: ParamKind] = [
        "types.TipSetKey": .tipSetKey,
        "abi.ChainEpoch": .epoch,
        "cid.Cid": .cid,
        "*cid.Cid": .cid,
        "address.Address": .address,
        "*types.Message": .message,
        "*types.SignedMessage": .signedMessage,
        "[]*types.Message": .messages,
        "[]*types.SignedMessage": .signedMessages,
        "[]*MessagePrototype": .messagePrototypes,
        "ethtypes.EthBlockNumberOrHash": .ethBlock,
        "ethtypes.EthHash": .ethHash,
        "*ethtypes.EthHash": .ethHash,
        "ethtypes.EthAddress": .ethAddress,
    ]

    /// Types that carry nothing routing needs (amounts, flags, options, deal and sector
    /// numbers, eth filter ids — which look like hashes but name node-local filters).
    static let deliberatelyOther: Set<String> = [
        "*BlockTemplate", "*MessageMatch", "*MessageSendSpec", "*StartDealParams", "*bitfield.BitField",
        "*crypto.Signature", "*ethtypes.EthFilterSpec", "*paych.SignedVoucher", "*types.ActorEventFilter",
        "*types.BlockMsg", "*types.KeyInfo", "*types.MpoolConfig", "ChainExportConfig", "ExportRef",
        "F3ParticipationTicket", "FileRef", "HotGCOpts", "PaychGetOpts", "PruneOpts", "RetrievalOrder",
        "[]VoucherSpec", "[]abi.DealID", "[]address.Address", "[]byte", "[]string", "abi.DealID",
        "abi.MethodNum", "abi.PaddedPieceSize", "abi.RegisteredSealProof", "abi.SectorNumber",
        "abi.SectorSize", "abinetwork.Version", "blocks.Block", "bool", "crypto.DomainSeparationTag",
        "datatransfer.TransferID", "ethtypes.EthBytes", "ethtypes.EthCall", "ethtypes.EthFilterID",
        "ethtypes.EthSubscriptionID", "ethtypes.EthTraceFilterCriteria", "ethtypes.EthUint64", "float64",
        "imports.ID", "int64", "json.RawMessage", "jsonrpc.RawParams", "miner.SectorPreCommitInfo",
        "peer.ID", "retrievalmarket.DealID", "string", "types.BigInt", "types.KeyType", "uint64",
        "verifreg.AllocationId", "verifreg.ClaimId",
    ]
}
