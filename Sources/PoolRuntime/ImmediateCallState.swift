// The life of one call started without a task: its first node's answer, a hedge or a retry on
// the other nodes, the caller giving up. Every event is one switch that says what to do.

/// What an immediate call has done so far. Confined to `ImmediateCallProgress`'s lock.
struct ImmediateCallState: Sendable {
    enum Phase: Sendable, Equatable {
        /// Only the first node has it.
        case waiting
        /// The hedge delay passed: the other nodes have it too (a task), the first still may answer.
        case hedging
        /// The first node failed: the other nodes have it (a task).
        case retrying
        /// The caller has its answer.
        case finished
    }

    private(set) var phase = Phase.waiting
    private(set) var abandoned = false
    /// The hedge's own answer when it was not a result and the first node was still working:
    /// the first node's answer decides, or this one if it fails too.
    private(set) var hedgeAnswer: PoolReply?
    /// The first node failed while the hedge was still working: the hedge's answer, whatever
    /// it is, is the caller's.
    private(set) var firstFailed = false

    /// What to do with the first node's reply.
    enum FirstReplyAction: Equatable {
        /// Give the caller this answer (its judgement).
        case deliver
        /// The caller gave up: answer "context canceled".
        case deliverCancelled
        /// Ask the other nodes (a retry task).
        case retry
        /// The hedge failed too before: give the caller the hedge's answer.
        case deliverHedgeAnswer(PoolReply)
        /// Someone else answers (the hedge runs or answered already).
        case ignore
    }

    /// The first node replied; `final` is whether its judgement is the caller's answer.
    mutating func firstReplied(final: Bool) -> FirstReplyAction {
        guard self.phase == .waiting || self.phase == .hedging else { return .ignore }
        if self.abandoned || final {
            let action: FirstReplyAction = self.abandoned ? .deliverCancelled : .deliver
            self.phase = .finished
            return action
        }
        if self.phase == .waiting {
            self.phase = .retrying
            return .retry
        }
        if let answer = self.hedgeAnswer {
            self.phase = .finished
            return .deliverHedgeAnswer(answer)
        }
        // The hedge is still trying the other nodes: it answers.
        self.firstFailed = true
        return .ignore
    }

    /// The hedge delay passed: whether to start the hedge. `withinBudget` is asked (and spends
    /// the hedge budget) only when a hedge is due; one it refuses leaves the call waiting on its
    /// first node, whose reply then decides or starts the retry, as if no delay had passed.
    mutating func hedgeDue(withinBudget: () -> Bool = { true }) -> Bool {
        guard self.phase == .waiting, !self.abandoned, withinBudget() else { return false }
        self.phase = .hedging
        return true
    }

    /// What to do with the answer of the other nodes (a hedge's or a retry's).
    enum FollowerAction: Equatable {
        case deliver
        case deliverCancelled
        /// A hedge's failure (no daemon's answer, or a lagging node's error) while the first node
        /// still works: kept, the first node decides.
        case wait
        case ignore
    }

    /// The hedge or retry answered; `isFinal` says whether its answer is the caller's whatever
    /// the first node says: a result, or an error the daemon means (not a lagging node's).
    mutating func followerAnswered(isFinal: Bool) -> FollowerAction {
        switch self.phase {
        case .finished, .waiting: return .ignore
        case .retrying:
            self.phase = .finished
            return self.abandoned ? .deliverCancelled : .deliver
        case .hedging:
            if self.abandoned {
                self.phase = .finished
                return .deliverCancelled
            }
            // A failure waits for the first node only while that one may still answer; once it
            // failed too, waiting would leave the call unanswered for ever. A daemon's definite
            // error does not wait: the first node may never answer, and the task path's hedge
            // returns that error at once too.
            if isFinal || self.firstFailed {
                self.phase = .finished
                return .deliver
            }
            return .wait
        }
    }

    /// Keeps the hedge's failed answer (after `followerAnswered` said `.wait`).
    mutating func keepHedgeAnswer(_ answer: PoolReply) { self.hedgeAnswer = answer }

    /// The caller gave up.
    mutating func abandon() { self.abandoned = true }
}
