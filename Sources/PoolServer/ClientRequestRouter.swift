// Turns one client frame into what the connection does with it: an immediate answer (bad
// JSON, unknown method, missing permission), a pool call, a channel to open, an admin call, or
// a cancel. The method is found by the generated lookup on the raw bytes; params stay raw.

import GeneratedRoutes
import LotusWire
import PoolRuntime
import RouteModel

/// One frame, read.
enum ClientFrame: Sendable {
    /// Refused at once with this error (bad JSON, unknown method, missing permission, …).
    case refused(id: [UInt8], RPCError)
    /// Route through the pool; answer with `id`.
    case call(id: [UInt8], requestID: Int64?, PoolCall)
    /// A channel method (WebSocket only).
    case channel(id: [UInt8], requestID: Int64?, PoolCall)
    /// An `FPool.` admin method.
    case admin(id: [UInt8], requestID: Int64?, AdminCall)
    /// `xrpc.cancel` of a request id.
    case cancel(requestID: Int64)
    /// Nothing to do (a stray response or unknown notification).
    case ignore
}

/// One `FPool.` call: the method without its prefix, the raw params, and the caller's seed (`node list` shows the
/// caller's primary).
struct AdminCall: Sendable {
    let method: String
    let params: [UInt8]
    let callerSeed: MinerSeed?
}

/// Reads frames for one connection's API version and token grant.
struct ClientRequestRouter: Sendable {
    static let adminPrefix = "FPool."
    /// Requests this large are read off the event loop: checking a 50 MB body takes long
    /// enough to delay every other connection and heartbeat on that loop.
    static let offLoopBytes = 256 << 10

    let version: APIVersion
    let grant: ClientGrant
    /// False over HTTP: channel methods need a WebSocket.
    let channelsSupported: Bool

    func read(_ bytes: [UInt8]) -> ClientFrame {
        let frame: RawRPCFrame
        do {
            frame = try RawRPCFrame(bytes)
        } catch {
            // Only integer ids go back: a v0.1.5 client crashes on `"id":null`.
            return .refused(id: Array("0".utf8), error)
        }
        guard let methodRange = frame.method else { return .ignore }  // a response: clients send none we expect
        let id = frame.id.map { Array(bytes[$0]) }
        guard let id else {
            // A notification: only xrpc.cancel means something here.
            guard frame.methodName == "xrpc.cancel", let params = frame.params,
                let first = (try? RawJSON.elements(of: bytes, in: params))?.first, let requestID = RawJSON.decodeInt(bytes, first)
            else { return .ignore }
            return .cancel(requestID: requestID)
        }
        if let params = frame.params, bytes[params.lowerBound] != UInt8(ascii: "[") {
            return .refused(id: id, RPCError.parse("json: cannot unmarshal params: not an array"))
        }
        let routeID: RouteID? =
            frame.methodHasEscapes
            ? frame.methodName.flatMap { name in
                name.hasPrefix(RouteEntry.wirePrefix)
                    ? RouteTable.lookup(self.version, name: String(name.dropFirst(RouteEntry.wirePrefix.count))) : nil
            }
            : bytes.withUnsafeBytes { RouteTable.lookup(self.version, wireName: UnsafeRawBufferPointer(rebasing: $0[methodRange])) }
        let params = Array(frame.paramBytes)
        guard let routeID else {
            return self.unlisted(frame, id: id, params: params)
        }
        let route = routeID.route
        guard self.grant.permissions.contains(route.perm) else {
            return .refused(id: id, LotusErrorText.missingPermission(method: route.name, need: route.perm.rawValue))
        }
        var facts = CallFactsReader.facts(route: route, bytes: bytes, params: frame.params)
        facts.clientSeed = self.grant.seed
        let call = PoolCall(id: routeID, method: route.wireName, version: self.version, params: params, facts: facts)
        if route.result == .channel {
            guard self.channelsSupported else { return .refused(id: id, RPCError.noChannelSupport(route.wireName)) }
            return .channel(id: id, requestID: frame.intID, call)
        }
        return .call(id: id, requestID: frame.intID, call)
    }

    /// A method in no table: fpool's admin namespace, or forwarded as an admin write (the
    /// daemon decides whether it exists, PRODUCT.md §2).
    private func unlisted(_ frame: RawRPCFrame, id: [UInt8], params: [UInt8]) -> ClientFrame {
        let name = frame.methodName ?? ""
        if name.hasPrefix(Self.adminPrefix) {
            guard self.grant.permissions.contains(.admin) else {
                return .refused(id: id, LotusErrorText.missingPermission(method: name, need: Perm.admin.rawValue))
            }
            let call = AdminCall(method: String(name.dropFirst(Self.adminPrefix.count)), params: params, callerSeed: self.grant.seed)
            return .admin(id: id, requestID: frame.intID, call)
        }
        // Lotus serves only the Filecoin namespace: anything else does not exist anywhere.
        guard name.hasPrefix(RouteEntry.wirePrefix), name.count > RouteEntry.wirePrefix.count else {
            return .refused(id: id, RPCError.methodNotFound(name))
        }
        guard self.grant.permissions.contains(.admin) else {
            let short = String(name.dropFirst(RouteEntry.wirePrefix.count))
            return .refused(
                id: id,
                RPCError(
                    code: 1,
                    message:
                        "missing permission to invoke '\(short)' (need 'admin'): fpool knows no such method in \(self.version.rawValue), and forwards unknown methods only for admin tokens"
                ))
        }
        return .call(id: id, requestID: frame.intID, PoolCall(id: nil, method: name, version: self.version, params: params))
    }
}

extension RPCError {
    /// go-jsonrpc's protocol errors (−32768…−32000), which it answers over HTTP with status 500.
    var isProtocolError: Bool { Self.isProtocolError(code: self.code) }

    static func isProtocolError(code: Int64) -> Bool { (-32768)...(-32000) ~= code }
}

extension PoolReply {
    /// The error code the client gets, nil for a result.
    var errorCode: Int64? {
        switch self {
        case .result: nil
        case .error(let code, _, _): code
        case .failed: 1
        }
    }

    /// The JSON-RPC answer to send for this reply.
    func frame(id: [UInt8]) -> [UInt8] {
        switch self {
        case .result(let result, _): RawRPCFrames.result(id: id, result: result)
        case .error(let code, let message, _): RawRPCFrames.error(id: id, RPCError(code: code, message: message))
        case .failed(let reason): RawRPCFrames.error(id: id, RPCError(code: 1, message: "fpool: \(reason)"))
        }
    }
}
