// The bytes a simulated daemon puts on the wire for a frame, as Lotus v1.36's go-jsonrpc (≥ v0.3.2)
// writes them: an answer's keys sorted (it marshals the answer as a map, so `{"id":N,
// "jsonrpc":"2.0","result":…}` and `{"error":…,"id":N,"jsonrpc":"2.0"}`), and every message
// ended by the newline of Go's `json.Encoder`. A pool tuned only to older daemons' key order
// would look faster here than it is against a real one.

import LotusWire

enum SimWireEncoding {
    static func bytes(of frame: JSON) -> [UInt8] {
        var frame = frame
        if case .object(let members) = frame, !members.contains(where: { $0.0 == "method" }) {
            frame = .object(members.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) })
        }
        return frame.encoded() + [UInt8(ascii: "\n")]
    }
}
