// Carries the fault schedule out against the simulated network at its planned times, and
// undoes every fault it started, so the run ends with every daemon healthy.

import LotusSim
import PoolRuntime

struct FaultInjector: Sendable {
    let cluster: SimCluster
    let pool: Pool
    let log: FaultLog
    let schedule: FaultSchedule
    /// The moment the schedule's times count from.
    let start: ContinuousClock.Instant
    /// A line per fault, for the run's progress output.
    let progress: @Sendable (String) -> Void

    private enum Step {
        case inject(Int)
        case undo(Int)
    }

    /// Runs until the schedule is done. Cancelled, it stops injecting and undoes at once what
    /// it started.
    func run() async {
        var steps: [(at: Duration, step: Step)] = []
        for (index, fault) in self.schedule.faults.enumerated() {
            steps.append((fault.at, .inject(index)))
            steps.append((fault.end, .undo(index)))
        }
        // At equal times an undo goes first: it frees the daemon the next fault may take.
        steps.sort { lhs, rhs in
            if lhs.at != rhs.at { return lhs.at < rhs.at }
            if case .undo = lhs.step { return true }
            return false
        }
        var records: [Int: Int] = [:]
        for (at, step) in steps {
            if !Task.isCancelled { try? await Task.sleep(until: self.start + at, clock: .continuous) }
            switch step {
            case .inject(let index):
                // Once cancelled, nothing new starts; what already started is still undone.
                guard !Task.isCancelled else { continue }
                records[index] = await self.inject(self.schedule.faults[index])
            case .undo(let index):
                guard let record = records.removeValue(forKey: index) else { continue }
                await self.undo(self.schedule.faults[index], record: record)
            }
        }
    }

    private func inject(_ fault: PlannedFault) async -> Int {
        let channels = fault.daemon.map { daemon in Set(self.pool.channelNodes.filter { $0.value == daemon }.keys) } ?? []
        let record = self.log.begin(fault, channels: channels, at: .now)
        self.progress("fault: \(fault.description)")
        if let injection = fault.injection, let daemon = fault.daemon {
            do {
                try await self.cluster.inject(injection, daemon: daemon)
            } catch {
                self.log.failed(record, "inject \(injection): \(error)")
            }
        } else if fault.kind == .nullRounds {
            self.cluster.scheduleNullRounds(fault.amount)
        }
        return record
    }

    private func undo(_ fault: PlannedFault, record: Int) async {
        if let undo = fault.undo, let daemon = fault.daemon {
            do {
                try await self.cluster.inject(undo, daemon: daemon)
            } catch {
                self.log.failed(record, "undo with \(undo): \(error)")
            }
        }
        self.log.end(record, at: .now)
    }
}
