// Everything the workers observe, in bounded memory: latencies per method, failures (the
// first few in full), and what the ChainNotify subscribers saw.

import Synchronization

/// The calls the load makes.
enum ChaosCall: String, CaseIterable, Sendable {
    case chainHead = "ChainHead"
    case tipSetByHeight = "ChainGetTipSetByHeight"
    case stateGetActor = "StateGetActor"
    case mpoolGetNonce = "MpoolGetNonce"
    case mpoolPushMessage = "MpoolPushMessage"
    case mpoolPush = "MpoolPush"

    var isRead: Bool { self != .mpoolPushMessage && self != .mpoolPush }
}

/// A call that failed or answered wrongly, as the report quotes it.
struct ChaosIncident: Sendable {
    let call: String
    /// Seconds since the start of the load.
    let at: Double
    let took: Duration
    let detail: String
}

/// Concurrency: every method may be called from any task.
final class ChaosRecorder: Sendable {
    struct Calls: Sendable {
        var latency: [ChaosCall: LatencyStats] = [:]
        var failed: [ChaosCall: Int] = [:]
        /// Reads that failed while at least one daemon answered: must stay 0.
        var failedReads = 0
        /// Reads that failed while no daemon answered at all (the schedule never allows it).
        var failedReadsAllSilent = 0
        /// Answers from another chain or beyond the network's head.
        var wrongAnswers = 0
        var clientDrops = 0
        var incidents: [ChaosIncident] = []
    }

    struct Channels: Sendable {
        var subscriptions = 0
        /// Closes of a channel that had delivered its first value.
        var closes = 0
        /// From a close to the first value on the channel that replaced it.
        var resubscribeTimes: [Duration] = []
        /// Subscribe attempts fpool refused or did not answer in time.
        var refusedSubscriptions = 0
        /// A value whose tipset's parents were not the tipset before it, within one channel.
        var gaps = 0
        /// A first value that was not `current`, or a tipset from another chain.
        var wrongValues = 0
        var values = 0
        /// When each subscriber last got a value.
        var lastValue: [Int: ContinuousClock.Instant] = [:]
    }

    /// Incidents kept in full; the rest are only counted.
    static let keptIncidents = 40

    private let calls = Mutex(Calls())
    private let channels = Mutex(Channels())
    private let log: FaultLog
    let start: ContinuousClock.Instant
    /// Answers slower than these are incidents too (their start time finds them in the log).
    private let readBound: Duration
    private let pushBound: Duration

    init(log: FaultLog, start: ContinuousClock.Instant, readBound: Duration, pushBound: Duration) {
        self.log = log
        self.start = start
        self.readBound = readBound
        self.pushBound = pushBound
    }

    // MARK: - Calls

    func succeeded(_ call: ChaosCall, started: ContinuousClock.Instant) {
        let took = ContinuousClock.now - started
        let bound = call.isRead ? self.readBound : self.pushBound
        self.calls.withLock { calls in
            calls.latency[call, default: LatencyStats()].add(took)
            if took > bound {
                self.keep(
                    &calls,
                    ChaosIncident(
                        call: call.rawValue, at: (started - self.start).seconds, took: took,
                        detail: "answered, past its bound of \(bound.figure)"))
            }
        }
    }

    func failed(_ call: ChaosCall, started: ContinuousClock.Instant, error: any Error) {
        let now = ContinuousClock.now
        let allSilent = call.isRead && self.log.noDaemonAnswered(during: started...now)
        self.calls.withLock { calls in
            calls.latency[call, default: LatencyStats()].add(now - started)
            calls.failed[call, default: 0] += 1
            if call.isRead {
                if allSilent { calls.failedReadsAllSilent += 1 } else { calls.failedReads += 1 }
            }
            self.keep(
                &calls, ChaosIncident(call: call.rawValue, at: (started - self.start).seconds, took: now - started, detail: "\(error)"))
        }
    }

    /// An answer that came back but cannot be right.
    func wrongAnswer(_ call: ChaosCall, started: ContinuousClock.Instant, detail: String) {
        let now = ContinuousClock.now
        self.calls.withLock { calls in
            calls.latency[call, default: LatencyStats()].add(now - started)
            calls.wrongAnswers += 1
            self.keep(&calls, ChaosIncident(call: call.rawValue, at: (started - self.start).seconds, took: now - started, detail: detail))
        }
    }

    func clientDropped() {
        self.calls.withLock { calls in
            calls.clientDrops += 1
            self.keep(
                &calls,
                ChaosIncident(
                    call: "client", at: (ContinuousClock.now - self.start).seconds, took: .zero,
                    detail: "fpool closed the client's WebSocket"))
        }
    }

    private func keep(_ calls: inout Calls, _ incident: ChaosIncident) {
        if calls.incidents.count < Self.keptIncidents { calls.incidents.append(incident) }
    }

    var callFigures: Calls { self.calls.withLock { $0 } }

    // MARK: - Channels

    func subscribed() {
        self.channels.withLock { $0.subscriptions += 1 }
    }

    func subscriptionRefused(started: ContinuousClock.Instant, error: any Error) {
        self.channels.withLock { $0.refusedSubscriptions += 1 }
        self.calls.withLock { calls in
            self.keep(
                &calls,
                ChaosIncident(
                    call: "ChainNotify", at: (started - self.start).seconds, took: ContinuousClock.now - started, detail: "\(error)"))
        }
    }

    func value(_ subscriber: Int, gap: Bool, wrong: String?) {
        let now = ContinuousClock.now
        self.channels.withLock { channels in
            channels.values += 1
            channels.lastValue[subscriber] = now
            if gap { channels.gaps += 1 }
            if wrong != nil { channels.wrongValues += 1 }
        }
        if let wrong {
            self.calls.withLock { calls in
                self.keep(&calls, ChaosIncident(call: "ChainNotify", at: (now - self.start).seconds, took: .zero, detail: wrong))
            }
        }
    }

    func channelClosed() {
        self.channels.withLock { $0.closes += 1 }
    }

    func resubscribed(after gap: Duration) {
        self.channels.withLock { $0.resubscribeTimes.append(gap) }
    }

    var channelFigures: Channels { self.channels.withLock { $0 } }
}
