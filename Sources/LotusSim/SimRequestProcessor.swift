// Turns one incoming JSON-RPC frame into its answer, as a Lotus daemon's go-jsonrpc server would.

import GeneratedRoutes
import LotusWire
import RouteModel

/// What to do with one frame.
enum SimRequestOutcome: Sendable {
    /// Send this frame.
    case reply(JSON)
    /// A valid channel call (ChainNotify, MpoolSub): the connection opens the channel.
    case openChannel(id: JSON, kind: SimDaemonState.SubscriptionKind)
    /// `xrpc.cancel` of a request id.
    case cancel(requestID: Int64)
    /// Nothing to send (other notifications, stray responses).
    case none
}

struct SimRequestProcessor: Sendable {
    let world: SimWorld
    let daemon: Int
    let version: APIVersion
    /// The permissions of the caller's token (`read` without one).
    let permissions: Set<String>
    let channelsSupported: Bool

    /// Parses, checks (method, param count, permission) and runs one frame.
    func process(_ bytes: [UInt8]) async -> SimRequestOutcome {
        do {
            return await self.process(json: try JSON.parse(bytes))
        } catch {
            return .reply(RPCFrames.error(id: 0, .parse(error.description)))
        }
    }

    func process(json: JSON) async -> SimRequestOutcome {
        let frame: RPCFrame
        do {
            frame = try RPCFrame(json)
        } catch {
            // Only integer ids go back: a v0.1.5 client crashes on `"id":null`.
            return .reply(RPCFrames.error(id: json["id"]?.int.map(JSON.int) ?? 0, error))
        }
        switch frame {
        case .notification(let method, let params):
            if method == "xrpc.cancel", let id = params.first?.int { return .cancel(requestID: id) }
            return .none
        case .response:
            return .none
        case .request(let id, let method, let params):
            return await self.call(id: id, method: method, params: params)
        }
    }

    private func call(id: JSON, method: String, params: [JSON]) async -> SimRequestOutcome {
        guard method.hasPrefix(RouteEntry.wirePrefix) else { return .reply(RPCFrames.error(id: id, .methodNotFound(method))) }
        let name = String(method.dropFirst(RouteEntry.wirePrefix.count))
        guard SimMethods.served.contains(name), let route = RouteTable.lookup(self.version, name: name)?.route else {
            return .reply(RPCFrames.error(id: id, .methodNotFound(method)))
        }
        if route.result == .channel && !self.channelsSupported {
            return .reply(RPCFrames.error(id: id, .noChannelSupport(method)))
        }
        guard params.count == route.params.count else {
            return .reply(RPCFrames.error(id: id, .wrongParamCount(method, got: params.count, want: route.params.count)))
        }
        guard self.permissions.contains(route.perm.rawValue) else {
            return .reply(RPCFrames.error(id: id, LotusErrorText.missingPermission(method: name, need: route.perm.rawValue)))
        }
        let (injected, latency) = self.world.state.withLock { state -> (RPCError?, Int) in
            state.daemons[self.daemon].calls += 1
            let latency = state.daemons[self.daemon].latencyMilliseconds
            guard let failure = state.daemons[self.daemon].failNext[name] else { return (nil, latency) }
            state.daemons[self.daemon].failNext[name] = failure.count > 1 ? (failure.count - 1, failure.error) : nil
            return (failure.error, latency)
        }
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
        if let injected { return .reply(RPCFrames.error(id: id, injected)) }
        if route.result == .channel {
            return .openChannel(id: id, kind: name == "MpoolSub" ? .mpoolSub : .chainNotify)
        }
        do {
            let result = try await SimMethods.call(name, params, version: self.version, world: self.world, daemon: self.daemon)
            return .reply(RPCFrames.result(id: id, result))
        } catch let error as RPCError {
            return .reply(RPCFrames.error(id: id, error))
        } catch is CancellationError {
            return .reply(RPCFrames.error(id: id, .canceled))
        } catch {
            return .reply(RPCFrames.error(id: id, RPCError(code: 1, message: "\(error)")))
        }
    }
}
