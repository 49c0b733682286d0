// A sender pushing messages through fpool, as a miner (MpoolPushMessage: the daemon signs and
// picks the nonce) or a tool with its own wallet does (MpoolGetNonce, sign, MpoolPush).

import LotusSim
import LotusWire

struct SenderWorker: Sendable {
    /// Which funded fixture account sends.
    let index: Int
    let client: ChaosClient
    let recorder: ChaosRecorder
    let cluster: SimCluster
    let configuration: ChaosConfiguration
    let stopAt: ContinuousClock.Instant

    /// Pushes, one at a time, until `stopAt`; returns what fpool answered.
    func run() async -> SenderTally {
        let account = SimFixtures.accounts[self.index]
        var tally = SenderTally(id: account.id, key: account.key)
        var random = SeededRandom(seed: self.configuration.seed, stream: 200 + UInt64(self.index))
        var sequence: Int64 = 0
        while !Task.isCancelled && ContinuousClock.now < self.stopAt {
            sequence += 1
            if Bool.random(using: &random) {
                await self.pushMessage(&tally, sequence: sequence)
            } else {
                await self.pushSigned(&tally, sequence: sequence)
            }
            tally.confirm(self.cluster)
            try? await Task.sleep(for: random.duration(in: .milliseconds(150) ... .milliseconds(450)))
        }
        return tally
    }

    /// A transfer to the next fixture account of `sequence` attoFIL: every push of a sender is
    /// a message of its own, so a CID names one push (signing the same message again for a
    /// nonce already taken would make the same CID, and its refusal look like a landing).
    private func message(from key: String, nonce: Int64, sequence: Int64) -> JSON {
        let to = SimFixtures.accounts[(self.index + 1) % SimFixtures.accounts.count].id
        // Gas as MpoolPushMessage would fill it: a signed message at a nonce already taken is
        // then refused (replace-by-fee needs a higher premium), never swapped in.
        return [
            "Version": 0, "To": .string(to), "From": .string(key), "Nonce": .int(nonce), "Value": .string(String(sequence)),
            "GasLimit": 1_500_000,
            "GasFeeCap": "100000", "GasPremium": "1000", "Method": 0, "Params": "",
        ]
    }

    private func pushMessage(_ tally: inout SenderTally, sequence: Int64) async {
        let started = ContinuousClock.now
        do {
            let signed = try await self.client.call(
                ChaosCall.mpoolPushMessage.rawValue, [self.message(from: tally.key, nonce: 0, sequence: sequence), nil],
                limit: self.configuration.callLimit)
            guard let cid = signed["CID"]?["/"]?.string, let nonce = signed["Message"]?["Nonce"]?.int,
                signed["Message"]?["From"]?.string == tally.key
            else {
                self.recorder.wrongAnswer(.mpoolPushMessage, started: started, detail: "not this sender's signed message: \(signed)")
                return
            }
            self.recorder.succeeded(.mpoolPushMessage, started: started)
            tally.accepted(cid: cid, nonce: UInt64(nonce))
        } catch {
            guard !Task.isCancelled else { return }
            self.recorder.failed(.mpoolPushMessage, started: started, error: error)
            tally.refusedPush(error, signedCID: nil)
        }
    }

    private func pushSigned(_ tally: inout SenderTally, sequence: Int64) async {
        var started = ContinuousClock.now
        let nonce: Int64
        do {
            let answer = try await self.client.call(
                ChaosCall.mpoolGetNonce.rawValue, [.string(tally.key)], limit: self.configuration.callLimit)
            guard let value = answer.int else {
                self.recorder.wrongAnswer(.mpoolGetNonce, started: started, detail: "not a nonce: \(answer)")
                return
            }
            self.recorder.succeeded(.mpoolGetNonce, started: started)
            nonce = value
        } catch {
            if !Task.isCancelled { self.recorder.failed(.mpoolGetNonce, started: started, error: error) }
            return
        }
        let signed: JSON
        do {
            signed = try SimWallet.sign(self.message(from: tally.key, nonce: nonce, sequence: sequence))
        } catch {
            preconditionFailure("the chaos sender's own message does not sign: \(error)")
        }
        let cid = signed["CID"]?["/"]?.string ?? ""
        started = ContinuousClock.now
        do {
            let answer = try await self.client.call(ChaosCall.mpoolPush.rawValue, [signed], limit: self.configuration.callLimit)
            guard answer["/"]?.string == cid else {
                self.recorder.wrongAnswer(.mpoolPush, started: started, detail: "pushed \(cid), answered \(answer)")
                return
            }
            self.recorder.succeeded(.mpoolPush, started: started)
            tally.accepted(cid: cid, nonce: UInt64(nonce))
        } catch {
            guard !Task.isCancelled else { return }
            self.recorder.failed(.mpoolPush, started: started, error: PushFailure(sender: tally.id, nonce: nonce, error: error))
            tally.refusedPush(error, signedCID: cid)
        }
    }
}
