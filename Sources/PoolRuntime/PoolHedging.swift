// Hedged reads: a read whose node has not answered within the hedge delay is sent to the next
// node too; the first real answer wins and the others are given up upstream (`xrpc.cancel`).
// A silent daemon then costs a caller one hedge delay, not a heartbeat timeout.

import GeneratedRoutes
import RouteModel
import Synchronization

extension Pool {
    /// The delay before hedging this call from `first` in its plan; nil when it is not hedged
    /// (not a read, no other node to ask, hedging off, or the hedge budget spent is judged later).
    func hedgeDelay(_ call: PoolCall, plan: CallPlan, from first: Int) -> Duration? {
        guard let id = call.id, plan.hedge != .off, plan.route.effect == .read, !plan.fanOut, plan.order.count - first > 1 else {
            return nil
        }
        return self.latency.delay(id, plan.hedge)
    }

    /// Records a read's answer time (the auto hedge delay follows it) and earns hedge budget;
    /// nothing when the method is not hedged, so an unhedged read does no work for it.
    func recordLatency(_ call: PoolCall, plan: CallPlan, since start: Duration) {
        guard let id = call.id, plan.hedge != .off, plan.route.effect == .read else { return }
        self.latency.record(id, self.clock.now - start)
        self.latency.earn()
    }

    /// Whether one more hedge fits the budget (spends it when it does).
    func spendHedge() -> Bool { self.latency.spend() }

    private enum HedgeEvent: Sendable {
        case reply(position: Int, reply: NodeReply, started: Duration)
        case timer
    }

    /// Tries the plan's nodes from `first` as `tryInOrder` does, but asks the next node as well
    /// whenever `delay` passes without an answer. The attempts run as tasks of their own, so a
    /// loser that ignores cancellation never holds the caller.
    func tryHedged(
        _ call: PoolCall, plan: CallPlan, from first: Int, last: PoolReply?, drops: DropCount, delay: Duration
    ) async -> PoolReply {
        let order = Array(plan.order.dropFirst(first))
        let (events, sink) = AsyncStream.makeStream(of: HedgeEvent.self)
        let tasks = TaskList()
        var next = 0
        var running = 0
        /// Positions started as hedges (while another attempt was still running).
        var hedges: Set<Int> = []
        var last: PoolReply = last ?? .failed("no node available for \(call.method)")
        func launch() {
            let position = next
            let (connection, _) = self.connectionAndName(of: order[position].index)
            next += 1
            running += 1
            tasks.add(
                self.scheduler.task {
                    let started = self.clock.now
                    await self.prepareNonceRead(call, plan: plan, node: order[position].index)
                    sink.yield(.reply(position: position, reply: await connection.call(call), started: started))
                })
            if next < order.count {
                tasks.add(
                    Task {
                        guard (try? await self.clock.sleep(for: delay)) != nil else { return }
                        sink.yield(.timer)
                    })
            }
        }
        return await withTaskCancellationHandler {
            defer {
                tasks.cancelAll()
                sink.finish()
            }
            // Given up already (a hedge task cancelled as it starts): nothing goes upstream.
            if Task.isCancelled { return .failed("context canceled") }
            if let refused = self.refusedAfterDrops(call, drops: drops) { return refused }
            launch()
            for await event in events {
                switch event {
                case .timer:
                    // Still waiting, another node to ask, and budget left: hedge.
                    guard running > 0, next < order.count, !drops.limitReached, self.spendHedge() else { continue }
                    let slow = self.connectionAndName(of: order[next - 1].index).1
                    self.observer.hedgeSent(method: call.method, node: slow, delay: delay)
                    hedges.insert(next)
                    launch()
                case .reply(let position, let reply, let started):
                    running -= 1
                    // A caller that gave up is owed no retry: its call was cancelled, not lost.
                    if Task.isCancelled, case .unreachable = reply { return .failed("context canceled") }
                    let candidate = order[position]
                    let name = self.connectionAndName(of: candidate.index).1
                    self.countCall(node: candidate.index)
                    if let dropped = self.secondDrop(reply, of: call, drops: drops, node: name) { return dropped }
                    switch self.judge(reply, of: call, plan: plan, node: candidate.index, name: name) {
                    case .answer(let answer):
                        if case .result = reply { self.recordLatency(call, plan: plan, since: started) }
                        if hedges.contains(position) { self.observer.hedgeWon(method: call.method, node: name) }
                        return answer
                    case .tryNext(let answer), .resolveAmbiguousPush(let answer):
                        last = answer
                        if running == 0 {
                            guard next < order.count else {
                                self.observer.callFinished(method: call.method, node: nil, succeeded: false)
                                return last
                            }
                            if let refused = self.refusedAfterDrops(call, drops: drops) { return refused }
                            launch()
                        }
                    }
                }
            }
            return Task.isCancelled ? .failed("context canceled") : last
        } onCancel: {
            tasks.cancelAll()
            sink.finish()
        }
    }
}

/// The attempts of one hedged call, cancelled together when it is decided or given up.
final class TaskList: Sendable {
    private let tasks = Mutex<(tasks: [Task<Void, Never>], cancelled: Bool)>(([], false))

    func add(_ task: Task<Void, Never>) {
        let cancelled = self.tasks.withLock { state in
            if !state.cancelled { state.tasks.append(task) }
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancelAll() {
        let tasks = self.tasks.withLock { state in
            state.cancelled = true
            defer { state.tasks = [] }
            return state.tasks
        }
        tasks.forEach { $0.cancel() }
    }
}
