// Maps the Go parameter types of Lotus's OpenRPC documents to routing param kinds.

import RouteModel

/// Every Go type seen in the v1.15.1 and v1.36.1 FullNode documents, mapped deliberately:
/// to the kind routing cares about, or to `other` on purpose. Lotus renames its packages and
/// aliases between releases (`verifreg.AllocationId`, `verifregtypes.AllocationId`), so a type
/// is also found by its name without the package; the importer infers the kind of one found
/// neither way from its example, and lists it for review.
public enum GoTypeMap {
    /// The kind for an exact Go type spelling (`*cid.Cid`): a routed kind, `other` for a type deliberately
    /// mapped to it, or nil for a type this map does not know (try `kindIgnoringPackage`, then the example).
    public static func kind(of goType: String) -> ParamKind? {
        if let kind = Self.routed[goType] { return kind }
        return Self.deliberatelyOther.contains(goType) ? .other : nil
    }

    /// The kind of a type known here under another package name (`chaintypes.TipSetKey` as
    /// `types.TipSetKey`; pointers and slices must match), when every known type of that
    /// unqualified name has the same kind.
    public static func kindIgnoringPackage(of goType: String) -> ParamKind? {
        Self.byUnqualifiedName[Self.unqualified(goType)] ?? nil
    }

    /// `*verifregtypes.AllocationId` → `*AllocationId`; `[]*types.Message` → `[]*Message`.
    static func unqualified(_ goType: String) -> String {
        let prefix = goType.prefix { $0 == "*" || $0 == "[" || $0 == "]" }
        let name = goType.dropFirst(prefix.count)
        guard let dot = name.lastIndex(of: ".") else { return goType }
        return String(prefix) + name[name.index(after: dot)...]
    }

    /// nil for a name two known types of different kinds share.
    static let byUnqualifiedName: [String: ParamKind?] = {
        var names: [String: ParamKind?] = [:]
        let known = Self.routed.map { ($0.key, $0.value) } + Self.deliberatelyOther.map { ($0, ParamKind.other) }
        for (type, kind) in known {
            let name = Self.unqualified(type)
            if let seen = names[name], seen != kind { names[name] = .some(nil) } else if names[name] == nil { names[name] = kind }
        }
        return names
    }()

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
        "peer.ID", "retrievalmarket.DealID", "string", "time.Time", "types.BigInt", "types.KeyType", "uint64",
        "verifreg.AllocationId", "verifreg.ClaimId", "verifregtypes.AllocationId", "verifregtypes.ClaimId",
    ]
}
