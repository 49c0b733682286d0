// The invariants of issue 13, computed from a run's outcome: each a measured figure against
// its bound.

extension ChaosOutcome {
    var checks: [ChaosCheck] {
        var checks: [ChaosCheck] = []
        let reads = ChaosCall.allCases.filter(\.isRead).reduce(0) { $0 + (self.calls.latency[$1]?.count ?? 0) }
        checks.append(
            ChaosCheck(
                invariant: "failed reads while ≥ 1 daemon answered", measured: "\(self.calls.failedReads) of \(reads)", bound: "0",
                passed: self.calls.failedReads == 0))
        checks.append(
            ChaosCheck(
                invariant: "failed reads while no daemon answered",
                measured: "\(self.calls.failedReadsAllSilent) (no daemon answered for \(self.allSilentTime.figure))", bound: "0",
                passed: self.calls.failedReadsAllSilent == 0))
        let wrong = self.calls.wrongAnswers + self.channels.wrongValues
        checks.append(
            ChaosCheck(invariant: "wrong answers (another chain, beyond the head)", measured: "\(wrong)", bound: "0", passed: wrong == 0))
        checks.append(
            ChaosCheck(
                invariant: "client connections fpool dropped", measured: "\(self.calls.clientDrops)", bound: "0",
                passed: self.calls.clientDrops == 0))
        checks += self.pushChecks
        checks += self.channelChecks
        checks += self.latencyChecks
        checks += self.processChecks
        return checks
    }

    private var pushChecks: [ChaosCheck] {
        let messages = self.senders.reduce(0) { $0 + Int($1.chainNonce) }
        let gaps = self.senders.reduce(0) { $0 + $1.gaps }
        let duplicates = self.senders.reduce(0) { $0 + $1.duplicates }
        let mismatches = self.senders.filter { !$0.nonceMatches }.count
        let accepted = self.senders.reduce(0) { $0 + $1.tally.accepted }
        let notLanded = self.senders.reduce(0) { $0 + $1.acceptedNotLanded }
        let unaccounted = self.senders.reduce(0) { $0 + $1.landedWithoutSuccess + $1.refusedButLanded }
        let ambiguous = self.senders.reduce(0) { $0 + $1.tally.ambiguous }
        return [
            ChaosCheck(
                invariant: "nonces on chain gapless and unique (\(self.senders.count) senders)",
                measured: "\(messages) messages: \(gaps) gaps, \(duplicates) duplicates, \(mismatches) actor nonces off", bound: "0",
                passed: gaps == 0 && duplicates == 0 && mismatches == 0),
            ChaosCheck(
                invariant: "pushes answered with success, never on chain", measured: "\(notLanded) of \(accepted)", bound: "0",
                passed: notLanded == 0),
            ChaosCheck(
                invariant: "messages on chain though their push failed",
                measured: "\(unaccounted) (beyond \(ambiguous) ambiguous answers)", bound: "0", passed: unaccounted == 0),
            ChaosCheck(
                invariant: "valid messages never included (a nonce gap)", measured: "\(self.waitingMessages)", bound: "0",
                passed: self.waitingMessages == 0),
        ]
    }

    private var channelChecks: [ChaosCheck] {
        var checks: [ChaosCheck] = []
        for signal in ChannelLossSignal.allCases {
            let bound = signal.bound(self.configuration)
            var worst: Duration = .zero
            var measured = 0
            var late = 0
            for record in self.faults where record.planned.kind.channelLoss == signal && !record.channelsAtInjection.isEmpty {
                guard let injected = record.injectedAt else { continue }
                if let closed = record.channelsClosedAt {
                    measured += 1
                    worst = max(worst, closed - injected)
                    if closed - injected > bound { late += 1 }
                } else if let undone = record.undoneAt, undone - injected > bound {
                    // Open still when the fault was undone, past the bound: never closed in time.
                    measured += 1
                    late += 1
                    worst = max(worst, undone - injected)
                }
            }
            checks.append(
                ChaosCheck(
                    invariant: "channels of a faulted daemon closed (\(signal.label))",
                    measured: measured == 0
                        ? "no such fault met an open channel" : "max \(worst.figure) over \(measured) faults, \(late) late",
                    bound: "≤ \(bound.figure)", passed: measured == 0 ? nil : late == 0))
        }
        let times = self.channels.resubscribeTimes.sorted()
        let worst = times.last ?? .zero
        let median = times.isEmpty ? Duration.zero : times[times.count / 2]
        let bound = self.configuration.resubscribeBound
        checks.append(
            ChaosCheck(
                invariant: "closed channels re-subscribed",
                measured:
                    "\(times.count) of \(self.channels.closes), p50 \(median.figure), max \(worst.figure); \(self.channels.refusedSubscriptions) attempts refused",
                bound: "all, each ≤ \(bound.figure), none refused",
                passed: times.count == self.channels.closes && worst <= bound && self.channels.refusedSubscriptions == 0))
        checks.append(
            ChaosCheck(
                invariant: "tipsets skipped within an open channel", measured: "\(self.channels.gaps) of \(self.channels.values) values",
                bound: "0", passed: self.channels.gaps == 0))
        checks.append(
            ChaosCheck(
                invariant: "subscribers receiving at the end", measured: "\(self.liveSubscribers) of \(self.configuration.subscribers)",
                bound: "all", passed: self.liveSubscribers == self.configuration.subscribers))
        return checks
    }

    private var latencyChecks: [ChaosCheck] {
        func worst(_ reads: Bool) -> (Duration, String) {
            var worst: (Duration, String) = (.zero, "none")
            for call in ChaosCall.allCases where call.isRead == reads {
                if let stats = self.calls.latency[call], stats.worst > worst.0 { worst = (stats.worst, call.rawValue) }
            }
            return worst
        }
        let (read, readCall) = worst(true)
        let (push, pushCall) = worst(false)
        return [
            ChaosCheck(
                invariant: "slowest read", measured: "\(read.figure) (\(readCall))", bound: "≤ \(self.configuration.readBound.figure)",
                passed: read <= self.configuration.readBound),
            ChaosCheck(
                invariant: "slowest push", measured: "\(push.figure) (\(pushCall))", bound: "≤ \(self.configuration.pushBound.figure)",
                passed: push <= self.configuration.pushBound),
        ]
    }

    private var processChecks: [ChaosCheck] {
        var checks: [ChaosCheck] = []
        let limit = self.configuration.memoryGrowthLimit
        if let (since, start, cachedAtStart) = self.memory.baseline, let end = self.memoryEnd {
            // The result cache fills as the chain grows, up to its own bound: what it holds is
            // kept on purpose, and the growth judged is everything else's.
            let others = { (resident: UInt64, cached: UInt64) in Double(resident) - Double(min(cached, resident)) }
            let growth = others(end, self.cachedEnd) / others(start, cachedAtStart) - 1
            let peak = self.memory.peak.map { ", peak \(ResidentMemory.figure($0))" } ?? ""
            let cache = "result cache \(ResidentMemory.figure(cachedAtStart)) → \(ResidentMemory.figure(self.cachedEnd))"
            checks.append(
                ChaosCheck(
                    invariant: "resident memory besides the result cache (at \(Int(since)) s → end)",
                    measured:
                        "\(ResidentMemory.figure(start)) → \(ResidentMemory.figure(end)), \(cache) (\(growth >= 0 ? "+" : "")\(Int((growth * 100).rounded())) %\(peak))",
                    bound: self.configuration.ownsProcess ? "≤ +\(Int(limit * 100)) %" : "not judged: other tests share the process",
                    passed: self.configuration.ownsProcess ? growth <= limit : nil))
        } else {
            checks.append(ChaosCheck(invariant: "resident memory", measured: "not measurable here (no /proc)", bound: "", passed: nil))
        }
        let failedFaults = self.faults.compactMap(\.failure)
        checks.append(
            ChaosCheck(
                invariant: "faults injected and undone",
                measured: "\(self.faults.count) faults\(failedFaults.isEmpty ? "" : ", \(failedFaults.count) refused: \(failedFaults[0])")",
                bound: "all", passed: failedFaults.isEmpty && !self.faults.isEmpty))
        checks.append(
            ChaosCheck(
                invariant: "network settled after the faults",
                measured: self.settleTime.map { "in \($0.figure)" } ?? "not within \(self.configuration.settleLimit.figure)",
                bound: "≤ \(self.configuration.settleLimit.figure)", passed: self.settleTime != nil))
        checks.append(
            ChaosCheck(
                invariant: "fpool never crashed (answers at the end)", measured: self.endProblem ?? "ChainHead answered", bound: "yes",
                passed: self.endProblem == nil))
        return checks
    }
}
