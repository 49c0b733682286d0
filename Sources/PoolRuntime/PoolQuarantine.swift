// The pool's side of `RequestQuarantine`: refusing a request daemons dropped their
// connection over, and the text its client reads.

extension Pool {
    /// Whether anything is quarantined (the call path looks no further when not).
    var quarantineActive: Bool { self.quarantine.withLock { $0.count > 0 } }

    /// True when `call` is a quarantined request (counted and reported).
    func isQuarantined(_ call: PoolCall) -> Bool {
        guard self.quarantineActive else { return false }
        let key = RequestKey(call)
        guard self.quarantine.withLock({ $0.isQuarantined(key, at: self.clock.now) }) else { return false }
        self.observer.quarantinedRequestRefused(method: call.method)
        return true
    }

    static func quarantineText(_ method: String) -> String {
        "\(method): two daemons closed their connection after receiving this request; fpool refuses it for \(RequestQuarantine.period) so that it cannot take every daemon down"
    }
}
