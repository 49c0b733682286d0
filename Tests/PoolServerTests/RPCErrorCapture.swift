// Catching the RPC error a call through fpool fails with.

import LotusWire
import Testing

/// The RPC error a call failed with, or nil if it succeeded.
func rpcError(_ body: () async throws -> JSON) async -> RPCError? {
    do {
        _ = try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        Issue.record("expected an RPC error, got \(error)")
        return nil
    }
}
