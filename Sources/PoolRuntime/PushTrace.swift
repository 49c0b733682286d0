// The steps one push took (waiting for a node, nonce catch-ups, attempts, looking its message
// up elsewhere), so that a push that took long says why in one log line.

struct PushTrace: Sendable {
    /// A push slower than this is reported with its steps.
    static let slowAfter = Duration.seconds(10)
    /// More steps than this are summarised (a push over many nodes, each step short).
    static let maxSteps = 16

    private(set) var steps: [String] = []
    private(set) var omitted = 0
    let start: Duration
    private var last: Duration

    init(start: Duration, now: Duration) {
        self.start = start
        self.last = start
        if now - start >= .milliseconds(1) { self.record("waited for a node", now: now) }
    }

    /// One step, ended `now`.
    mutating func record(_ step: String, now: Duration) {
        defer { self.last = now }
        guard self.steps.count < Self.maxSteps else { return self.omitted += 1 }
        self.steps.append("\(step) \((now - self.last).goText)")
    }

    /// The log line's detail when the push took long by `now`, else nil.
    func slowReport(now: Duration) -> (took: Duration, steps: String)? {
        let took = now - self.start
        guard took > Self.slowAfter else { return nil }
        let more = self.omitted > 0 ? ["… \(self.omitted) more"] : []
        return (took, (self.steps + more).joined(separator: "; "))
    }

    /// A lost reply's lookup, as a step names it.
    static func outcome(_ lookup: Pool.AmbiguousOutcome) -> String {
        switch lookup {
        case .accepted(_, let node): "found on node \(node)"
        case .nowhere: "on no other node"
        case .unknown: "unknowable (the daemon signs it)"
        }
    }

    /// A node's reply, as a step names it.
    static func outcome(_ reply: NodeReply) -> String {
        switch reply {
        case .result: "accepted"
        case .error(let code, let message): "error \(code) \(message.prefix(80))"
        case .unreachable(let failure, let detail): "no answer (\(failure), \(detail.prefix(80)))"
        }
    }
}
