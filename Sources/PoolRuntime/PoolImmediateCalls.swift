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
        switch self.flights.join(cacheKey ?? CallKey(route: id, params: call.params), completion) {
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
        let plan = CallPlan(order: order, route: route, timeout: decision.timeout, hedge: decision.hedge)
        let startedAt = self.clock.now
        // One object carries the call to its reply and to its hedge timer: its closure below
        // and the timer each hold one reference, not a copy of the call each.
        let progress = ImmediateCallProgress(
            pool: self, call: call, plan: plan, first: first.index, link: link, startedAt: startedAt,
            hedgeDelay: self.hedgeDelay(call, plan: plan, from: 0), completion: completion)
        let started = link.connection.start(call) { reply in progress.firstNodeReplied(reply) }
        guard let started else { return .needsTask(counted) }
        progress.firstNode(giveUp: started)
        if let delay = progress.hedgeDelay, let timer = self.armHedge(progress, after: delay) { progress.timer(timer) }
        self.immediateStarts.add(1, ordering: .relaxed)
        return .started(progress)
    }

    /// A read's params above this size arm a hedge timer that its answer cancels. Smaller ones
    /// arm the read itself, never cancelled: a moot timer then holds its read (params included)
    /// until the delay has passed, so what answered reads hold is at most this much each, for
    /// the reads of one hedge delay, whatever a client sends.
    static let uncancelledHedgeParamsLimit = 1024

    /// Arms the read's hedge timer; a handle when the answer must cancel it.
    private func armHedge(_ progress: ImmediateCallProgress, after delay: Duration) -> (any PoolCancellable)? {
        guard progress.call.params.count <= Self.uncancelledHedgeParamsLimit else {
            return self.scheduler.schedule(after: delay) { progress.timerFired() }
        }
        return self.scheduler.schedule(after: delay, firing: progress)
    }

    /// Calls `startImmediately` sent without a task so far (tests and benchmarks check which path calls take).
    package var callsStartedImmediately: Int { self.immediateStarts.load(ordering: .relaxed) }
}

/// An immediate read on its way: what its first node's reply and its hedge timer need, and its
/// state behind a lock with the handles its events act on (the first node's give-up, a timer
/// to cancel, the hedge or retry task). It is its own hedge timer's target: the timer may hold
/// it until the delay has passed even when answered, so the client's completion is let go at
/// delivery, and what stays is the call itself (small params only, see
/// `uncancelledHedgeParamsLimit`), for at most the hedge delay.
private final class ImmediateCallProgress: PoolCancellable, PoolTimerTarget {
    private struct Guarded {
        var state = ImmediateCallState()
        /// Taken by the one delivery.
        var completion: (@Sendable (PoolReply) -> Void)?
        var giveUpFirst: (@Sendable () -> Void)?
        /// Only for a timer that must be cancelled once moot (see `PoolScheduler`).
        var timer: (any PoolCancellable)?
        var follower: Task<Void, Never>?
        /// Made when a drop or a hedge first needs it: most reads meet neither.
        var drops: DropCount?
    }

    let pool: Pool
    let call: PoolCall
    let plan: CallPlan
    /// The first node's index in the pool, and its socket, name and call counter.
    let first: Int
    let link: NodeLink
    let startedAt: Duration
    /// nil: not hedged.
    let hedgeDelay: Duration?
    private let guarded: Mutex<Guarded>

    init(
        pool: Pool, call: PoolCall, plan: CallPlan, first: Int, link: NodeLink, startedAt: Duration, hedgeDelay: Duration?,
        completion: @escaping @Sendable (PoolReply) -> Void
    ) {
        self.pool = pool
        self.call = call
        self.plan = plan
        self.first = first
        self.link = link
        self.startedAt = startedAt
        self.hedgeDelay = hedgeDelay
        self.guarded = Mutex(Guarded(completion: completion))
    }

    /// The first node's reply: judged, and delivered, retried on the other nodes, or left to
    /// the hedge.
    func firstNodeReplied(_ reply: NodeReply) {
        let pool = self.pool
        _ = self.link.calls.next()
        switch self.phaseAtReply {
        case .abandoned:
            // A call given up is neither judged (no retry reported) nor retried.
            if case .deliverCancelled = self.firstReplied(final: true) {
                pool.observer.callFinished(method: self.call.method, node: self.link.name, succeeded: false)
                self.deliver(.failed("context canceled"))
            }
            return
        case .finished:
            // The hedge won and gave this call up: its reply (a cancellation) is no failure.
            return
        case .waiting:
            break
        }
        // Counted with the hedge's own drops: after two between them the request goes to no
        // third daemon (and a large one is quarantined), as on the task path.
        if Pool.isDrop(reply), let refused = pool.secondDrop(reply, of: self.call, drops: self.dropCount(), node: self.link.name) {
            return self.answerFromFirstNode(refused)
        }
        let judgement = pool.judge(reply, of: self.call, plan: self.plan, node: self.first, name: self.link.name)
        if case .result = reply { pool.recordLatency(self.call, plan: self.plan, since: self.startedAt) }
        switch judgement {
        case .answer(let answer):
            self.answerFromFirstNode(answer)
        case .tryNext(let answer), .resolveAmbiguousPush(let answer):
            // Reads are never ambiguous pushes; the other nodes decide, unless the caller gives up.
            switch self.firstReplied(final: false) {
            case .retry:
                let (call, plan) = (self.call, self.plan)
                let drops = self.dropCount()
                self.follow(
                    pool.scheduler.task {
                        self.followerAnswered(await pool.tryInOrder(call, plan: plan, from: 1, last: answer, drops: drops))
                    })
            case .deliverHedgeAnswer(let hedged): self.deliver(hedged)
            case .deliverCancelled: self.deliver(.failed("context canceled"))
            case .deliver, .ignore: break
            }
        }
    }

    /// The hedge delay passed: the other nodes are asked too, unless the call was answered or
    /// given up meanwhile, or the budget (asked under this lock) refuses it. A first reply
    /// arriving meanwhile finds either no hedge (and retries itself) or one that will answer,
    /// never a hedge marked as sent that the budget refused (which left the call unanswered for ever).
    func timerFired() {
        let pool = self.pool
        guard let delay = self.hedgeDelay, self.guarded.withLock({ $0.state.hedgeDue(withinBudget: { pool.spendHedge() }) }) else { return }
        let (call, plan, drops) = (self.call, self.plan, self.dropCount())
        pool.observer.hedgeSent(method: call.method, node: self.link.name, delay: delay)
        self.follow(
            pool.scheduler.task {
                let reply = await pool.tryInOrder(call, plan: plan, from: 1, drops: drops)
                if self.followerAnswered(reply), case .result(_, let node) = reply {
                    pool.observer.hedgeWon(method: call.method, node: pool.connectionAndName(of: node).1)
                }
            })
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

    /// The hedge's or retry's answer; true when it is the caller's.
    @discardableResult
    func followerAnswered(_ reply: PoolReply) -> Bool {
        let isFinal = self.isFinal(reply)
        let (action, giveUpFirst, completion) = self.guarded.withLock { guarded in
            let action = guarded.state.followerAnswered(isFinal: isFinal)
            if action == .wait { guarded.state.keepHedgeAnswer(reply) }
            let completion = action == .deliver || action == .deliverCancelled ? guarded.completion.take() : nil
            return (action, guarded.giveUpFirst, completion)
        }
        switch action {
        case .deliver:
            // The hedge won: the first node's call is given up upstream (its reply is ignored).
            giveUpFirst?()
            completion?(reply)
            return true
        case .deliverCancelled:
            completion?(.failed("context canceled"))
        case .wait, .ignore: break
        }
        return false
    }

    /// Whether the other nodes' answer is the caller's whatever the first node says: a result,
    /// or an error the judge would give the client rather than retry (as `tryHedged` returns it).
    private func isFinal(_ reply: PoolReply) -> Bool {
        switch reply {
        case .result: return true
        case .failed: return false
        case .error(let code, let message, _):
            let decision = RetryRule.decide(ErrorClassifier.classify(.error(code: code, message: message)), route: self.plan.route)
            guard case .returnAnswer = decision else { return false }
            return true
        }
    }

    /// The first node's answer is the caller's, unless the caller gave up.
    private func answerFromFirstNode(_ answer: PoolReply) {
        switch self.firstReplied(final: true) {
        case .deliver: self.deliver(answer)
        case .deliverCancelled: self.deliver(.failed("context canceled"))
        case .deliverHedgeAnswer(let hedged): self.deliver(hedged)
        case .retry, .ignore: break
        }
    }

    /// The drops this call met, shared with its hedge or retry.
    private func dropCount() -> DropCount {
        self.guarded.withLock { guarded in
            if let drops = guarded.drops { return drops }
            let drops = DropCount()
            guarded.drops = drops
            return drops
        }
    }

    func deliver(_ reply: PoolReply) {
        let (follower, completion) = self.guarded.withLock { guarded in
            defer { guarded.follower = nil }
            return (guarded.follower, guarded.completion.take())
        }
        follower?.cancel()
        completion?(reply)
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
            defer { guarded.timer = nil }
            return (guarded.giveUpFirst, guarded.timer, guarded.follower)
        }
        timer?.cancel()
        follower?.cancel()
        giveUp?()
    }
}
