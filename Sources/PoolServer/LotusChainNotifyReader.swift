// Reads and writes ChainNotify values (`[{"Type":"apply","Val":tipset},…]`) for the pool's
// carry-over of head channels across a dropped daemon connection.

import LotusWire
import PoolRuntime

/// The pool's `ChainNotifyReader` for Lotus's JSON: head changes as `[{"Type":…,"Val":tipset},…]`.
public struct LotusChainNotifyReader: ChainNotifyReader {
    /// A reader; it holds no state, so one can be shared by every pool.
    public init() {}

    /// The changes of one ChainNotify value in order; nil when the value is not JSON, or any entry lacks a known
    /// `Type` or a tipset with `Cids`, `Height` and its first block's `Parents`.
    public func changes(in value: [UInt8]) -> [HeadChange]? {
        guard let entries = (try? JSON.parse(value))?.array else { return nil }
        var changes: [HeadChange] = []
        changes.reserveCapacity(entries.count)
        for entry in entries {
            guard let kind = entry["Type"]?.string.flatMap(HeadChange.Kind.init(rawValue:)), let tipset = entry["Val"].flatMap(Self.facts)
            else { return nil }
            changes.append(HeadChange(kind, tipset))
        }
        return changes
    }

    /// A ChainNotify value carrying `changes`, each tipset written as its `raw` JSON.
    public func value(of changes: [HeadChange]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (position, change) in changes.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out += #"{"Type":""#.utf8
            out += change.kind.rawValue.utf8
            out += #"","Val":"#.utf8
            out += change.tipset.raw
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The facts of a tipset's JSON (ChainGetTipSet's answer); nil when it lacks a key, a height or parents.
    public func tipset(_ raw: [UInt8]) -> TipSetFacts? {
        (try? JSON.parse(raw)).flatMap(Self.facts)
    }

    /// A tipset's key, height and parents (those of its first block, which all its blocks share).
    private static func facts(_ tipset: JSON) -> TipSetFacts? {
        guard let key = tipset["Cids"].flatMap(Self.key), !key.isEmpty, let height = tipset["Height"]?.int,
            let parents = tipset["Blocks"]?[0]?["Parents"].flatMap(Self.key)
        else { return nil }
        return TipSetFacts(key: key, height: height, parents: parents, raw: tipset.encoded())
    }

    private static func key(_ cids: JSON) -> [String]? {
        guard let array = cids.array else { return nil }
        let key = array.compactMap { $0["/"]?.string }
        return key.count == array.count ? key : nil
    }
}
