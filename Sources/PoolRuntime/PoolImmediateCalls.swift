// The common call without a task: a read whose node is known at once is sent from the thread
// that read the request, and answered from the thread its reply arrives on. Anything that
// needs waiting (no node yet, an epoch not reached, a timeout, fan-out, a retry) takes
// `call(_:)`, which can suspend.

import RouteModel
import Synchronization

/// How `Pool.startImmediately` went.
package enum ImmediateStart: Sendable {
    /// On its way; the handle gives it up (its completion then gets "context canceled").
    case started(any PoolCancellable)
    /// Not startable without a task: pass this call (its call id already counted) to `Pool.call`.
    case needsTask(PoolCall)
    /// Answered already, on the calling thread (from the result cache): nothing to give up.
    case answered
}

extension Pool {
    /// Starts a read at once on its first node when routing needs no wait and the node's
    /// connection can send it from this thread; `completion` gets the client's reply, once
    /// (from the node's reply, or after a retry or a hedge on the other nodes, from a task).
    ///
    /// A kept answer (the result cache) is given at once; a read identical to one in flight
    /// shares its upstream call (`ReadFlights`), and the one that leads a flight finds its task
    /// here when it needs one, so the callers that joined it are answered too.
    package func startImmediately(_ call: PoolCall, completion: @escaping @Sendable (PoolReply) -> Void) -> ImmediateStart {
        let route = call.route
        // A quarantined request is refused on the task path.
        guard let id = call.id, route.effect == .read, route.seed == nil, !self.quarantines(call) else { return .needsTask(call) }
        let cacheKey = self.cacheKey(call)
        if let cacheKey, let cached = self.cachedReply(cacheKey) {
            completion(cached)
            return .answered
        }
        switch self.flights.join(CallKey(route: id, params: call.params), completion) {
        case .joined(let leave):
            return .started(leave)
        case .leads(let flight, let leave):
            switch self.startAlone(call, cacheKey: cacheKey, completion: flight.finish) {
            case .started(let abandon):
                flight.started(abandon: abandon)
            case .answered:
                // Answered on this thread (the head feed): nothing is left to give up.
                return .answered
            case .needsTask(let counted):
                flight.started(abandon: TaskCancellation(self.scheduler.task { flight.finish(await self.call(counted)) }))
            }
            return .started(leave)
        }
    }

    /// `startImmediately` for one caller alone.
    private func startAlone(
        _ call: PoolCall, cacheKey: CallKey?, completion: @escaping @Sendable (PoolReply) -> Void
    ) -> ImmediateStart {
        let route = call.route
        let answer = completion
        // Wrapped only when the answer is to be kept: a closure less per uncached read.
        let completion: @Sendable (PoolReply) -> Void =
            if let cacheKey {
                { reply in
                    self.keep(reply, for: cacheKey)
                    answer(reply)
                }
            } else {
                answer
            }
        // Counted once here, and carried to `call(_:)` when the call needs a task after all.
        var counted = call
        let callID = self.nextCallID(call.id)
        counted.reservedCallID = callID
        let decision = self.decide(route: route, facts: call.facts, callID: callID, seedID: nil)
        guard decision.timeout.milliseconds == 0, case .order(let order) = decision.outcome, !order.fanOut, let first = order.first,
            let link = decision.first
        else { return .needsTask(counted) }
        if let answer = self.headFromFeed(call, node: first.index) {
            completion(answer)
            return .answered
        }
        let (connection, name) = (link.connection, link.name)
        let plan = CallPlan(order: order, route: route, timeout: decision.timeout, hedge: decision.hedge)
        let progress = ImmediateCallProgress(completion: completion)
        let startedAt = self.clock.now
        let started = connection.start(call) { reply in
            _ = link.calls.next()
            switch progress.phaseAtReply {
            case .abandoned:
                // A call given up is neither judged (no retry reported) nor retried.
                if case .deliverCancelled = progress.firstReplied(final: true) {
                    self.observer.callFinished(method: call.method, node: name, succeeded: false)
                    progress.deliver(.failed("context canceled"))
                }
                return
            case .finished:
                // The hedge won and gave this call up: its reply (a cancellation) is no failure.
                return
            case .waiting:
                break
            }
            let judgement = self.judge(reply, of: call, plan: plan, node: first.index, name: name)
            if case .result = reply { self.recordLatency(call, plan: plan, since: startedAt) }
            switch judgement {
            case .answer(let answer):
                switch progress.firstReplied(final: true) {
                case .deliver: progress.deliver(answer)
                case .deliverCancelled: progress.deliver(.failed("context canceled"))
                case .deliverHedgeAnswer(let hedged): progress.deliver(hedged)
                case .retry, .ignore: break
                }
            case .tryNext(let answer), .resolveAmbiguousPush(let answer):
                // Reads are never ambiguous pushes; the other nodes decide, unless the caller gives up.
                switch progress.firstReplied(final: false) {
                case .retry:
                    progress.follow(
                        self.scheduler.task {
                            let drops = Self.isDrop(reply) ? 1 : 0
                            progress.followerAnswered(await self.tryInOrder(call, plan: plan, from: 1, last: answer, drops: drops))
                        })
                case .deliverHedgeAnswer(let hedged): progress.deliver(hedged)
                case .deliverCancelled: progress.deliver(.failed("context canceled"))
                case .deliver, .ignore: break
                }
            }
        }
        guard let started else { return .needsTask(counted) }
        progress.firstNode(giveUp: started)
        if let delay = self.hedgeDelay(call, plan: plan, from: 0) {
            progress.timer(
                self.scheduler.schedule(after: delay) {
                    guard progress.hedgeDue(withinBudget: { self.spendHedge() }) else { return }
                    self.observer.hedgeSent(method: call.method, node: name, delay: delay)
                    progress.follow(
                        self.scheduler.task {
                            let reply = await self.tryInOrder(call, plan: plan, from: 1)
                            if progress.followerAnswered(reply), case .result(_, let node) = reply {
                                self.observer.hedgeWon(method: call.method, node: self.connectionAndName(of: node).1)
                            }
                        })
                })
        }
        self.immediateStarts.add(1, ordering: .relaxed)
        return .started(progress)
    }

    /// Calls `startImmediately` sent without a task so far (tests and benchmarks check which path calls take).
    package var callsStartedImmediately: Int { self.immediateStarts.load(ordering: .relaxed) }
}

/// An immediate call's state behind a lock, and the handles its events act on: the first
/// node's give-up, the hedge timer, the hedge or retry task.
private final class ImmediateCallProgress: PoolCancellable {
    private struct Guarded {
        var state = ImmediateCallState()
        var giveUpFirst: (@Sendable () -> Void)?
        var timer: (any PoolCancellable)?
        var follower: Task<Void, Never>?
    }

    private let guarded = Mutex(Guarded())
    private let completion: @Sendable (PoolReply) -> Void

    init(completion: @escaping @Sendable (PoolReply) -> Void) {
        self.completion = completion
    }

    enum PhaseAtReply {
        /// The caller gave up.
        case abandoned
        /// The caller has its answer (the hedge won): a later reply of the first node is not judged.
        case finished
        case waiting
    }

    /// Where the call stands as its first node replies (one lock for both questions).
    var phaseAtReply: PhaseAtReply {
        self.guarded.withLock { guarded in
            if guarded.state.abandoned { return .abandoned }
            return guarded.state.phase == .finished ? .finished : .waiting
        }
    }

    func firstReplied(final: Bool) -> ImmediateCallState.FirstReplyAction {
        let (action, timer) = self.guarded.withLock { guarded in
            let action = guarded.state.firstReplied(final: final)
            defer { guarded.timer = nil }
            return (action, guarded.timer)
        }
        // The first node has spoken: no hedge is due any more.
        timer?.cancel()
        return action
    }

    /// Whether to start the hedge, the budget asked under this lock: a first reply arriving
    /// meanwhile finds either no hedge (and retries itself) or one that will answer, never a
    /// hedge marked as sent that the budget refused (which left the call unanswered for ever).
    func hedgeDue(withinBudget: () -> Bool) -> Bool { self.guarded.withLock { $0.state.hedgeDue(withinBudget: withinBudget) } }

    /// The hedge's or retry's answer; true when it is the caller's.
    @discardableResult
    func followerAnswered(_ reply: PoolReply) -> Bool {
        let isResult: Bool
        if case .result = reply { isResult = true } else { isResult = false }
        let (action, giveUpFirst) = self.guarded.withLock { guarded in
            let action = guarded.state.followerAnswered(isResult: isResult)
            if action == .wait { guarded.state.keepHedgeAnswer(reply) }
            return (action, guarded.giveUpFirst)
        }
        switch action {
        case .deliver:
            // The hedge won: the first node's call is given up upstream (its reply is ignored).
            giveUpFirst?()
            self.completion(reply)
            return true
        case .deliverCancelled:
            self.completion(.failed("context canceled"))
        case .wait, .ignore: break
        }
        return false
    }

    func deliver(_ reply: PoolReply) {
        let follower = self.guarded.withLock { guarded in
            defer { guarded.follower = nil }
            return guarded.follower
        }
        follower?.cancel()
        self.completion(reply)
    }

    func firstNode(giveUp: @escaping @Sendable () -> Void) { self.guarded.withLock { $0.giveUpFirst = giveUp } }

    func timer(_ timer: any PoolCancellable) {
        // A first reply that came before the timer was set leaves nothing to hedge.
        let late = self.guarded.withLock { guarded -> Bool in
            guard guarded.state.phase == .waiting else { return true }
            guarded.timer = timer
            return false
        }
        if late { timer.cancel() }
    }

    func follow(_ task: Task<Void, Never>) {
        let cancelled = self.guarded.withLock { guarded -> Bool in
            guarded.follower = task
            return guarded.state.abandoned
        }
        if cancelled { task.cancel() }
    }

    /// The caller gave up: the first node's call, the timer and the other nodes' task end; the
    /// completion gets "context canceled" once, from whichever of them reports first.
    func cancel() {
        let (giveUp, timer, follower) = self.guarded.withLock { guarded in
            guarded.state.abandon()
            return (guarded.giveUpFirst, guarded.timer, guarded.follower)
        }
        timer?.cancel()
        follower?.cancel()
        giveUp?()
    }
}
