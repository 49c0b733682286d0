// A client that reads as a miner's scheduler does: the head, then reads pinned to that head's
// tipset (a tipset by height, an actor's state) that the pool must send to a node which has it.

import LotusSim
import LotusWire

struct ReadWorker: Sendable {
    let index: Int
    let client: ChaosClient
    let recorder: ChaosRecorder
    let cluster: SimCluster
    let configuration: ChaosConfiguration
    let stopAt: ContinuousClock.Instant

    /// Reads in a loop until `stopAt`, a short random pause between rounds.
    func run() async {
        var random = SeededRandom(seed: self.configuration.seed, stream: 100 + UInt64(self.index))
        while !Task.isCancelled && ContinuousClock.now < self.stopAt {
            await self.round(&random)
            try? await Task.sleep(for: random.duration(in: .milliseconds(30) ... .milliseconds(120)))
        }
    }

    private func round(_ random: inout SeededRandom) async {
        guard let head = await self.read(.chainHead, [], check: self.checkHead), let height = head.tipSetHeight else { return }
        let key = JSON.array(head.tipSetCIDs.map { ["/": .string($0)] })
        let pinned = Int64.random(in: max(0, height - 10)...height, using: &random)
        _ = await self.read(.tipSetByHeight, [.int(pinned), key]) { tipset in
            guard let found = tipset.tipSetHeight else { return "not a tipset: \(tipset)" }
            // A null round answers the tipset below it.
            return found <= pinned && found > pinned - 10 ? nil : "asked for height \(pinned) at \(height), got \(found)"
        }
        let account = SimFixtures.accounts[Int.random(in: 0..<SimFixtures.accounts.count, using: &random)]
        _ = await self.read(.stateGetActor, [.string(account.id), key]) { actor in
            actor["Nonce"]?.int == nil ? "not an actor: \(actor)" : nil
        }
    }

    /// What is wrong with a ChainHead answer, if anything: another chain's head is far above.
    private func checkHead(_ head: JSON) -> String? {
        guard let height = head.tipSetHeight, !head.tipSetCIDs.isEmpty else { return "not a tipset: \(head)" }
        let network = self.cluster.networkHeight
        return height > network ? "head \(height) is beyond the network's \(network): another chain's" : nil
    }

    /// One read; `check` names what is wrong with an answer, if anything.
    private func read(_ call: ChaosCall, _ params: [JSON], check: (JSON) -> String?) async -> JSON? {
        let started = ContinuousClock.now
        do {
            let answer = try await self.client.call(call.rawValue, params, limit: self.configuration.callLimit)
            if let wrong = check(answer) {
                self.recorder.wrongAnswer(call, started: started, detail: wrong)
                return nil
            }
            self.recorder.succeeded(call, started: started)
            return answer
        } catch {
            if !Task.isCancelled { self.recorder.failed(call, started: started, error: error) }
            return nil
        }
    }
}
