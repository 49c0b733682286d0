// Decodes the positional params the simulated methods take, with go-jsonrpc's error texts.

import LotusWire

struct SimParams {
    let method: String
    let values: [JSON]

    func bad(_ position: Int, _ detail: String) -> RPCError {
        RPCError.badParams("Filecoin." + self.method, param: position, detail: detail)
    }

    func address(_ position: Int) throws(RPCError) -> String {
        guard let text = self.values[position].string, text.count >= 3, text.hasPrefix("f") || text.hasPrefix("t") else {
            throw self.bad(position, "invalid address payload")
        }
        return text
    }

    func cid(_ position: Int) throws(RPCError) -> String {
        guard let text = self.values[position]["/"]?.string, text.hasPrefix("b") else { throw self.bad(position, "invalid cid") }
        return text
    }

    /// A TipSetKey: `[]` or null means the head.
    func tipSetKey(_ position: Int) throws(RPCError) -> [String] {
        let value = self.values[position]
        if value.isNull { return [] }
        guard let items = value.array else { throw self.bad(position, "json: cannot unmarshal into Go value of type types.TipSetKey") }
        var cids: [String] = []
        for item in items {
            guard let text = item["/"]?.string else { throw self.bad(position, "invalid cid in tipset key") }
            cids.append(text)
        }
        return cids
    }

    func int(_ position: Int) throws(RPCError) -> Int64 {
        guard let value = self.values[position].int else {
            throw self.bad(position, "json: cannot unmarshal \(self.values[position]) into Go value of type int64")
        }
        return value
    }

    func bool(_ position: Int) throws(RPCError) -> Bool {
        guard let value = self.values[position].bool else { throw self.bad(position, "json: cannot unmarshal into Go value of type bool") }
        return value
    }
}
