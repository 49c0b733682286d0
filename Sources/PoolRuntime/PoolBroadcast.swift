// AllWithFirstSucceed for already signed pushes (MpoolPush, MpoolBatchPush): the message goes
// to every serving daemon at once. The first daemon to take it answers the client; the other
// answers are still awaited and logged, since each daemon that takes the message spreads it.

import Synchronization

extension Pool {
    /// Sends a signed push to every node of the plan at once and answers with the first
    /// success. "Already in mpool" is a success: the same CID is there. Each daemon's answer is
    /// reported to the observer, and each acceptance recorded for nonce-safe failover. The
    /// sends are tasks of their own, so neither the client's answer nor its leaving ends them.
    func broadcast(_ call: PoolCall, plan: CallPlan) async -> PoolReply {
        let targets = self.state.withLock { state in
            plan.order.map { (index: $0.index, connection: state.table[$0.index].connection, name: state.table[$0.index].endpoint.name) }
        }
        guard !targets.isEmpty else { return .failed("no node available for \(call.method)") }
        return await withCheckedContinuation { continuation in
            let outcome = BroadcastOutcome(expected: targets.count, continuation)
            for target in targets {
                Task {
                    let reply = await target.connection.call(call)
                    self.countCall(node: target.index)
                    let answer = self.broadcastAnswer(call, plan: plan, reply: reply, node: target.index, name: target.name)
                    outcome.offer(answer.reply, succeeded: answer.succeeded)
                }
            }
        }
    }

    /// One daemon's answer to a broadcast: what the client would get from it, whether it took
    /// the message, and the line the observer reports.
    private func broadcastAnswer(_ call: PoolCall, plan: CallPlan, reply: NodeReply, node: Int, name: String) -> (
        reply: PoolReply, succeeded: Bool
    ) {
        switch reply {
        case .result(let bytes):
            self.recordAccepted(call, result: bytes, seedID: plan.seedID, node: node)
            self.observer.broadcastAnswered(method: call.method, node: name, answer: "accepted")
            return (.result(bytes, node: node), true)
        case .error(let code, let message):
            if case .nonce(.alreadyInMpool) = ErrorClassifier.classify(code: code, message: message),
                let signed = call.facts.signedMessage
            {
                self.recordAccepted(call, result: [], seedID: plan.seedID, node: node)
                self.observer.broadcastAnswered(method: call.method, node: name, answer: "already in its mpool")
                return (.result(Array("{\"/\":\"\(signed.cid)\"}".utf8), node: node), true)
            }
            self.observer.broadcastAnswered(method: call.method, node: name, answer: "refused: \(message)")
            return (.error(code: code, message: message, node: node), false)
        case .unreachable(let failure, _):
            let text = Self.noAnswerText(failure, node: name)
            self.observer.broadcastAnswered(method: call.method, node: name, answer: text)
            return (.failed(text), false)
        }
    }
}

/// The client's answer to one broadcast: the first success, or once every daemon has answered
/// without one, a daemon's refusal (it says more than a lost connection).
final class BroadcastOutcome: Sendable {
    private struct State {
        var continuation: CheckedContinuation<PoolReply, Never>?
        var remaining: Int
        var failure: PoolReply?
    }

    private let state: Mutex<State>

    init(expected: Int, _ continuation: CheckedContinuation<PoolReply, Never>) {
        self.state = Mutex(State(continuation: continuation, remaining: expected))
    }

    func offer(_ reply: PoolReply, succeeded: Bool) {
        let (continuation, answer) = self.state.withLock { state -> (CheckedContinuation<PoolReply, Never>?, PoolReply?) in
            state.remaining -= 1
            if !succeeded {
                if case .error = reply { state.failure = reply } else if state.failure == nil { state.failure = reply }
            }
            guard succeeded || state.remaining == 0, let continuation = state.continuation else { return (nil, nil) }
            state.continuation = nil
            return (continuation, succeeded ? reply : state.failure)
        }
        if let continuation, let answer { continuation.resume(returning: answer) }
    }
}
