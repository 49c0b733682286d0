// The pool's side of `RequestQuarantine`: refusing a request daemons dropped their
// connection over, and the text its client reads.

import Synchronization

/// The drops one call has met (nodes that closed their connection with its request sent
/// last). Shared by the attempts that run at once, the first node's and its hedge's on the
/// immediate path, so that each counts the other's.
final class DropCount: Sendable {
    private let value = Atomic<Int>(0)

    /// Counts one more; the count after it.
    func add() -> Int { self.value.add(1, ordering: .relaxed).newValue }

    /// More than `RequestQuarantine.dropsAllowed`: the request goes to no other daemon.
    var limitReached: Bool { self.value.load(ordering: .relaxed) > RequestQuarantine.dropsAllowed }
}

extension Pool {
    /// Whether `call` is a quarantined request. Its params are hashed only while some request
    /// is quarantined; a request too small to be quarantined costs neither the clock nor the lock.
    func quarantines(_ call: PoolCall) -> Bool {
        guard call.params.count >= RequestQuarantine.minimumBytes else { return false }
        let now = self.clock.now
        guard self.quarantine.withLock({ $0.isActive(at: now) }) else { return false }
        let key = RequestKey(call)
        return self.quarantine.withLock { $0.isQuarantined(key, at: now) }
    }

    /// True when `call` is a quarantined request (counted and reported as refused).
    func isQuarantined(_ call: PoolCall) -> Bool {
        guard self.quarantines(call) else { return false }
        self.observer.quarantinedRequestRefused(method: call.method)
        return true
    }

    static func quarantineText(_ method: String) -> String {
        "\(method): two daemons closed their connection after receiving this request; fpool refuses it for \(RequestQuarantine.period) so that it cannot take every daemon down"
    }

    static func isDrop(_ reply: NodeReply) -> Bool {
        if case .unreachable(.dropped, _) = reply { return true }
        return false
    }

    /// The call's answer instead of another attempt once the drops it met (some of them counted
    /// by an attempt running beside this one) reached the limit; nil: carry on. Whoever counted
    /// the last drop reported it and quarantined the request (`secondDrop`).
    func refusedAfterDrops(_ call: PoolCall, drops: DropCount) -> PoolReply? {
        guard drops.limitReached else { return nil }
        return Self.answerAfterDrops(call)
    }

    /// What a call that two daemons dropped their connection over answers: a large request is
    /// quarantined (`secondDrop`), a small one only goes to no third daemon.
    private static func answerAfterDrops(_ call: PoolCall) -> PoolReply {
        guard call.params.count >= RequestQuarantine.minimumBytes else { return .failed("\(call.method): \(Self.notSentToAThird)") }
        return .failed(Self.quarantineText(call.method))
    }

    /// The end of a call's failure after two daemons dropped their connection over it.
    static let notSentToAThird = "two daemons closed their connection after receiving this request; not sent to a third"

    /// Counts a drop (a node closed its connection with this call's request sent last) in
    /// `drops`; at the second, the call's answer (nil: carry on): it fails rather than go to a
    /// third daemon, and a large request is refused for a while.
    func secondDrop(_ reply: NodeReply, of call: PoolCall, drops: DropCount, node name: String) -> PoolReply? {
        guard Self.isDrop(reply), drops.add() > RequestQuarantine.dropsAllowed else { return nil }
        self.reportNoAnswer(reply, method: call.method, node: name)
        self.observer.callFinished(method: call.method, node: name, succeeded: false)
        if call.params.count >= RequestQuarantine.minimumBytes {
            self.quarantine.withLock { $0.quarantine(RequestKey(call), at: self.clock.now) }
            self.observer.requestQuarantined(method: call.method, node: name, period: RequestQuarantine.period)
        }
        return Self.answerAfterDrops(call)
    }
}
