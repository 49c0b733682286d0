// The mix case's calls: what lotus-miner's WindowPoSt and sealing loops ask a daemon, with the
// weight each has in the mix and the WindowPoSt arithmetic their params come from.

import Foundation
import LoadKit

/// One kind of call in the mix.
enum MixCall: String, CaseIterable, Sendable {
    case chainReadObj = "ChainReadObj"
    case chainHead = "ChainHead"
    case stateGetActor = "StateGetActor"
    case stateMinerInfo = "StateMinerInfo"
    case stateMinerProvingDeadline = "StateMinerProvingDeadline"
    case stateMinerPartitions = "StateMinerPartitions"
    case stateNetworkVersion = "StateNetworkVersion"
    case chainGetTipSetByHeight = "ChainGetTipSetByHeight"
    case stateGetRandomnessFromBeacon = "StateGetRandomnessFromBeacon"

    /// Calls of this kind per 100 calls of the mix (they add up to 100). Benchmarks/README.md
    /// ("A miner's read mix") gives the reason for each.
    var weight: Int {
        switch self {
        // The miner reads actor state through an API blockstore: one call per IPLD node.
        case .chainReadObj: 30
        // Every sealing step and scheduler tick starts from the current head.
        case .chainHead: 15
        // The way into a miner's state (its Head), and balance checks before sending.
        case .stateGetActor: 10
        // Worker, sector size and partition size: asked by nearly every loop.
        case .stateMinerInfo: 10
        // The WindowPoSt scheduler asks on every head change.
        case .stateMinerProvingDeadline: 10
        // The deadline being proved and the one faults are declared for.
        case .stateMinerPartitions: 10
        // Proof types and message shapes depend on it; asked per task, cheaply.
        case .stateNetworkVersion: 5
        // Ticket and commit epochs become tipsets.
        case .chainGetTipSetByHeight: 5
        // Once per deadline and partition batch: the challenge seed.
        case .stateGetRandomnessFromBeacon: 5
        }
    }

    /// One cycle of the mix (100 calls), each kind spread evenly through it: nginx's smooth
    /// weighted round-robin, so that a window of a few calls already holds every kind in
    /// proportion and no kind comes in a burst.
    static let cycle: [MixCall] = {
        let kinds = MixCall.allCases
        let total = kinds.reduce(0) { $0 + $1.weight }
        var current = [Int](repeating: 0, count: kinds.count)
        var cycle: [MixCall] = []
        for _ in 0..<total {
            for index in kinds.indices { current[index] += kinds[index].weight }
            let pick = current.indices.max { current[$0] < current[$1] }!
            current[pick] -= total
            cycle.append(kinds[pick])
        }
        return cycle
    }()

    /// The weights as one line for the report.
    static var weightsLine: String {
        MixCall.allCases.map { "\($0.rawValue) \($0.weight)" }.joined(separator: ", ")
    }
}

/// Mainnet's WindowPoSt constants (Lotus `dline.Info`, as the simulator's
/// StateMinerProvingDeadline answers them), with every miner's proving period starting at 0.
enum ProvingPeriod {
    static let period: Int64 = 2880
    static let deadlines: Int64 = 48
    static let challengeWindow: Int64 = 60
    static let challengeLookback: Int64 = 20
    /// Lotus's DomainSeparationTag_WindowedPoStChallengeSeed.
    static let challengeSeedTag = 4

    /// The index of the deadline open at `height`.
    static func deadline(at height: Int64) -> Int64 { (height % Self.period) / Self.challengeWindow }

    /// The epoch that deadline opened (`di.Open`).
    static func open(at height: Int64) -> Int64 { height - height % Self.challengeWindow }

    /// The epoch its challenge is drawn at (`di.Challenge`), never below genesis.
    static func challenge(at height: Int64) -> Int64 { max(0, Self.open(at: height) - Self.challengeLookback) }

    /// The deadline WindowPoSt declares faults and recoveries for while `deadline` is open.
    static func declared(after deadline: Int64) -> Int64 { (deadline + 2) % Self.deadlines }
}

/// A miner the mix reads as, with the entropy its WindowPoSt randomness is drawn with.
struct MixMiner: Sendable {
    let address: String
    /// The address's CBOR serialisation, base64 (Lotus's `maddr.MarshalCBOR`): the entropy of
    /// StateGetRandomnessFromBeacon, so each miner's draws are distinct calls, as on a network.
    let entropy: String

    /// - Throws: for anything but an ID address (`f0…`/`t0…`), the only kind the simulator's miners have.
    init(_ address: String) throws {
        guard address.count > 2, address.dropFirst().hasPrefix("0"), let id = UInt64(address.dropFirst(2)) else {
            throw BenchError("--mix-miners: expected ID addresses such as f01000; got '\(address)'")
        }
        self.address = address
        // Protocol byte 0, then the ID as an unsigned varint, wrapped as a CBOR byte string.
        var payload: [UInt8] = [0]
        var rest = id
        repeat {
            payload.append(UInt8(rest & 0x7F) | (rest >= 0x80 ? 0x80 : 0))
            rest >>= 7
        } while rest > 0
        self.entropy = Data([0x40 | UInt8(payload.count)] + payload).base64EncodedString()
    }
}
