// One chaos run from start to report: simulated daemons and fpool in this process, clients
// over loopback WebSockets, the load and the fault schedule for the run's duration, then the
// network left to settle and the invariants checked. `fpool chaos` and the CI test share it.

import Foundation
import LotusSim
import LotusWire
import PoolRuntime
import PoolServer

struct ChaosRun: Sendable {
    let configuration: ChaosConfiguration
    /// A line per phase and per fault, as they happen.
    let progress: @Sendable (String) -> Void
    /// The pool's and the simulator's log lines.
    let log: @Sendable (String) -> Void

    /// Runs the chaos test and returns its report (which says whether every invariant held).
    ///
    /// - Throws: when the daemons or fpool cannot start (a port, the repo folder).
    func run() async throws -> ChaosReport {
        let configuration = self.configuration
        let levels = LogLevels()
        var simulation = SimConfiguration(nodes: configuration.nodes, blockTime: configuration.blockTime, basePort: 0)
        simulation.messageHorizon = configuration.messageHorizon
        let cluster = try await SimCluster.start(simulation, logger: levels.logger("sim", sink: self.log))
        let repoPath = FileManager.default.temporaryDirectory.appending(path: "fpool-chaos-\(UUID().uuidString)")
            .path(percentEncoded: false)
        defer { try? FileManager.default.removeItem(atPath: repoPath) }
        let instance: PoolInstance
        do {
            var environment = try PoolEnvironment.load(["FULLNODE_API_POOL_INFO": cluster.poolInfo])
            for (key, value) in configuration.poolSettings { try environment.settings.set(key, to: value) }
            instance = try PoolInstance(
                environment: environment, repo: FPoolRepo(path: repoPath),
                configuration: ServerConfiguration(host: "127.0.0.1", port: 0, shutdownGrace: .seconds(5)), logLevels: levels,
                logSink: self.log)
            try await instance.start()
        } catch {
            await cluster.stop()
            throw error
        }
        // The schedule and the pool's channel table speak of daemons by index: the pool's
        // nodes are the daemons in the same order.
        precondition(instance.pool.nodes.map(\.name) == cluster.daemons.map(\.name), "the pool's nodes are not the daemons in order")
        let tasks = ChaosTasks()
        let heartbeats = tasks.start { await instance.pool.runHeartbeats() }
        let outcome = await withTaskCancellationHandler {
            await self.drive(cluster: cluster, instance: instance, tasks: tasks)
        } onCancel: {
            tasks.cancelAll()
        }
        heartbeats.cancel()
        await instance.server.stop()
        await cluster.stop()
        return ChaosReport(outcome)
    }

    /// Load and faults, settling, and the measurements.
    private func drive(cluster: SimCluster, instance: PoolInstance, tasks: ChaosTasks) async -> ChaosOutcome {
        let configuration = self.configuration
        let start = ContinuousClock.now
        let stopAt = start + configuration.duration
        let faultLog = FaultLog(nodes: configuration.nodes)
        let recorder = ChaosRecorder(
            log: faultLog, start: start, readBound: configuration.readBound, pushBound: configuration.pushBound)
        let port = instance.server.port ?? 0
        let token = instance.server.auth.token(upTo: .admin)
        var clients: [ChaosClient] = []
        func client() -> ChaosClient {
            let made = ChaosClient(port: port, token: token, recorder: recorder)
            clients.append(made)
            return made
        }
        let schedule = FaultSchedule(configuration)
        self.progress(
            "\(schedule.faults.count) faults scheduled over \(configuration.duration.figure), after \(configuration.warmUp.figure) of warm-up"
        )

        let subscribers = (0..<configuration.subscribers).map { index in
            let subscriber = ChainSubscriber(
                index: index, client: client(), recorder: recorder, cluster: cluster, configuration: configuration)
            return tasks.start { await subscriber.run() }
        }
        let readers = (0..<configuration.readers).map { index in
            let reader = ReadWorker(
                index: index, client: client(), recorder: recorder, cluster: cluster, configuration: configuration, stopAt: stopAt)
            return tasks.start { await reader.run() }
        }
        // Senders share two connections, as a few miners behind one pool would.
        let senderClients = [client(), client()]
        let senders = (0..<configuration.senders).map { index in
            let sender = SenderWorker(
                index: index, client: senderClients[index % senderClients.count], recorder: recorder, cluster: cluster,
                configuration: configuration, stopAt: stopAt)
            return tasks.start { await sender.run() }
        }
        let watch = ChannelCloseWatch(pool: instance.pool, log: faultLog)
        let watching = tasks.start { await watch.run() }
        let memory = MemoryTrace(
            start: start, every: max(.seconds(10), configuration.duration / 10), baselineAt: configuration.memoryBaselineAt,
            cached: { [pool = instance.pool] in UInt64(max(0, pool.cacheFigures.bytes)) },
            progress: { line in self.progress(String(format: "%7.2f s  ", (ContinuousClock.now - start).seconds) + line) })
        let sampling = tasks.start { await memory.run() }
        let injector = FaultInjector(
            cluster: cluster, pool: instance.pool, log: faultLog, schedule: schedule, start: start,
            progress: { line in self.progress(String(format: "%7.2f s  ", (ContinuousClock.now - start).seconds) + line) })
        let injecting = tasks.start { await injector.run() }

        await injecting.value
        for reader in readers { await reader.value }
        var tallies: [SenderTally] = []
        for sender in senders { tallies.append(await sender.value) }
        self.progress(String(format: "load and faults over after %.1f s; settling", (ContinuousClock.now - start).seconds))

        let settleStart = ContinuousClock.now
        let settleTime = await self.settle(cluster: cluster, pool: instance.pool, recorder: recorder, tallies: &tallies, since: settleStart)
        let endProblem = await self.finalCall(port: port, token: token)
        let lastValues = recorder.channelFigures.lastValue
        let live = (0..<configuration.subscribers).filter { (lastValues[$0] ?? start) > settleStart }.count
        let memoryEnd = ResidentMemory.current()
        let cachedEnd = UInt64(max(0, instance.pool.cacheFigures.bytes))

        for subscriber in subscribers { subscriber.cancel() }
        for subscriber in subscribers { await subscriber.value }
        watching.cancel()
        sampling.cancel()
        await watching.value
        for client in clients { await client.close() }
        return ChaosOutcome(
            configuration: configuration, faults: faultLog.records, calls: recorder.callFigures, channels: recorder.channelFigures,
            senders: tallies.map { SenderAudit($0, cluster: cluster) }, waitingMessages: cluster.waitingMessages,
            memoryEnd: memoryEnd, cachedEnd: cachedEnd, memory: await sampling.value, settleTime: settleTime,
            endProblem: endProblem, liveSubscribers: live, height: cluster.networkHeight, allSilentTime: faultLog.allSilentTime,
            elapsed: ContinuousClock.now - start)
    }

    /// Waits (bounded by `settleLimit`) until every daemon is up and synced, the pool serves
    /// from all of them, every accepted push is on chain and every subscriber hears the head
    /// again; returns how long that took, or nil when it never happened.
    private func settle(
        cluster: SimCluster, pool: Pool, recorder: ChaosRecorder, tallies: inout [SenderTally], since settleStart: ContinuousClock.Instant
    ) async -> Duration? {
        let deadline = settleStart + self.configuration.settleLimit
        while ContinuousClock.now < deadline && !Task.isCancelled {
            for index in tallies.indices { tallies[index].confirm(cluster) }
            let height = cluster.networkHeight
            let synced = cluster.daemons.allSatisfy { $0.running && cluster.viewHeight(daemon: $0.index) == height }
            let serving = pool.nodes.allSatisfy { $0.state == .running }
            let landed = tallies.allSatisfy(\.unconfirmed.isEmpty) && cluster.waitingMessages == 0
            let lastValues = recorder.channelFigures.lastValue
            let hearing = (0..<self.configuration.subscribers).allSatisfy { (lastValues[$0] ?? settleStart) > settleStart }
            if cluster.pendingNullRounds == 0 && synced && serving && landed && hearing { return ContinuousClock.now - settleStart }
            // The harness's own polling pace while the network catches up.
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// ChainHead through fpool on a new connection after everything: fpool still serves.
    private func finalCall(port: Int, token: String) async -> String? {
        let client: LotusWSClient
        do {
            client = try await LotusWSClient.connect(host: "127.0.0.1", port: port, path: "/rpc/v1", token: token)
        } catch {
            return "cannot connect: \(error)"
        }
        let problem: String?
        do {
            let head = try await client.call("Filecoin.ChainHead")
            problem = head.tipSetHeight == nil ? "ChainHead answered \(head)" : nil
        } catch {
            problem = "ChainHead failed: \(error)"
        }
        await client.close()
        return problem
    }
}
