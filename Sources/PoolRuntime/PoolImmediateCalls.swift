// The common call without a task: a read whose node is known at once is sent from the thread
// that read the request, and answered from the thread its reply arrives on. Anything that
// needs waiting (no node yet, an epoch not reached, a timeout, fan-out, a retry) takes
// `call(_:)`, which can suspend.

import RouteModel
import Synchronization

/// How `Pool.startImmediately` went.
public enum ImmediateStart: Sendable {
    /// On its way; the handle gives it up (its completion then gets "context canceled").
    case started(@Sendable () -> Void)
    /// Not startable without a task: pass this call (its call id already counted) to `Pool.call`.
    case needsTask(PoolCall)
}

extension Pool {
    /// Starts a read at once on its first node when routing needs no wait and the node's
    /// connection can send it from this thread; `completion` gets the client's reply, once
    /// (from the node's reply, or after a retry on the other nodes, from a task).
    public func startImmediately(_ call: PoolCall, completion: @escaping @Sendable (PoolReply) -> Void) -> ImmediateStart {
        let route = call.route
        guard call.id != nil, route.effect == .read, route.seed == nil else { return .needsTask(call) }
        // Counted once here, and carried to `call(_:)` when the call needs a task after all.
        var counted = call
        let callID = self.nextCallID(call.id)
        counted.reservedCallID = callID
        let decision = self.decide(route: route, facts: call.facts, callID: callID, seedID: nil)
        guard decision.timeout.milliseconds == 0, case .order(let order) = decision.outcome, !order.fanOut, let first = order.first
        else { return .needsTask(counted) }
        let (connection, name) = self.connectionAndName(of: first.index)
        let plan = CallPlan(order: order, route: route, timeout: decision.timeout)
        let progress = ImmediateCallProgress()
        let started = connection.start(call) { reply in
            self.countCall(node: first.index)
            // A call given up is neither judged (no retry reported) nor retried.
            guard !progress.isAbandoned else {
                self.observer.callFinished(method: call.method, node: name, succeeded: false)
                return completion(.failed("context canceled"))
            }
            switch self.judge(reply, of: call, plan: plan, node: first.index, name: name) {
            case .answer(let answer):
                completion(answer)
            case .tryNext(let answer), .resolveAmbiguousPush(let answer):
                // Reads are never ambiguous pushes; the other nodes decide, unless the caller gives up.
                let retry = Task {
                    let reply = await self.tryInOrder(call, plan: plan, from: 1, last: answer)
                    completion(progress.isAbandoned ? .failed("context canceled") : reply)
                }
                if !progress.retrying(retry) { retry.cancel() }
            }
        }
        guard let started else { return .needsTask(counted) }
        self.immediateStarts.add(1, ordering: .relaxed)
        return .started {
            progress.abandon()
            started()
        }
    }

    /// Calls started without a task so far (tests and benchmarks check which path calls take).
    public var callsStartedImmediately: Int { self.immediateStarts.load(ordering: .relaxed) }
}

/// Whether the caller gave an immediate call up, and its retry to cancel when it does.
private final class ImmediateCallProgress: Sendable {
    private let state = Mutex<(abandoned: Bool, retry: Task<Void, Never>?)>((false, nil))

    var isAbandoned: Bool { self.state.withLock { $0.abandoned } }

    /// Keeps the retry; false when the call was given up already.
    func retrying(_ task: Task<Void, Never>) -> Bool {
        self.state.withLock { state in
            state.retry = task
            return !state.abandoned
        }
    }

    func abandon() {
        self.state.withLock { state in
            state.abandoned = true
            return state.retry
        }?.cancel()
    }
}
