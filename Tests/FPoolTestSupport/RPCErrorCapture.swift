// Catching the RPC error a call fails with, for tests that expect one.

import LotusWire

/// The RPC error a call failed with, or nil if it succeeded.
///
/// - Throws: any other error (a dropped connection, a bad answer), so the test fails with it.
public func rpcError(_ body: () async throws -> JSON) async throws -> RPCError? {
    do {
        _ = try await body()
        return nil
    } catch let error as RPCError {
        return error
    }
}
