// What a client is told when a daemon gave no answer, and what the log keeps: clients (some
// without a token) read the node's pool name and the kind of failure; the connection's own
// text, which names the daemon's address and port, goes only to fpool's log.

extension Pool {
    /// A node's reply as the client's answer; a missing answer names the node by `name` only.
    static func reply(_ reply: NodeReply, node: Int, name: String) -> PoolReply {
        switch reply {
        case .result(let bytes): .result(bytes, node: node)
        case .error(let code, let message): .error(code: code, message: message, node: node)
        case .unreachable(let failure, _): .failed(Self.noAnswerText(failure, node: name))
        }
    }

    /// The client's text for a node that gave no answer.
    static func noAnswerText(_ failure: ErrorClass.NetworkFailure, node name: String) -> String {
        switch failure {
        case .notSent: "\(name) is unreachable: the request was not sent"
        case .maybeSent: "\(name) did not answer: the connection failed after the request was sent"
        case .dropped: "\(name) did not answer: it closed the connection after the request was sent"
        }
    }

    /// A retry reason for the log, with what the connection said when there was no answer.
    /// The metrics count the reason's class only (the text before its first ':').
    static func logReason(_ reason: String, for reply: NodeReply) -> String {
        guard case .unreachable(_, let detail) = reply else { return reason }
        return "\(reason) (\(detail))"
    }

    /// Reports the connection's own text when a missing answer ends the call, not retried: the
    /// client's answer names only the node.
    func reportNoAnswer(_ reply: NodeReply, method: String, node name: String) {
        guard case .unreachable(_, let detail) = reply else { return }
        self.observer.callUnanswered(method: method, node: name, detail: detail)
    }
}
