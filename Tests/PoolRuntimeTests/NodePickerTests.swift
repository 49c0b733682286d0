// Each policy's choice and its fallback order.

import PoolRuntime
import RouteModel
import Testing

@Suite struct NodePickerTests {
    // Pool indices 0, 2, 3, 5 are available (1 and 4 disabled).
    let candidates = [
        Candidate(index: 0, head: 100, messagePeers: 3, blockPeers: 9),
        Candidate(index: 2, head: 102, messagePeers: 8, blockPeers: 1),
        Candidate(index: 3, head: 101, messagePeers: 8, blockPeers: 4),
        Candidate(index: 5, head: 102, messagePeers: 1, blockPeers: 4),
    ]

    func order(_ policy: Policy, callID: UInt64 = 0, seed: UInt64 = 0) -> [Int] {
        NodePicker.order(CandidateSet(self.candidates), policy: policy, callID: callID, seed: seed).map(\.index)
    }

    @Test func indexPolicies() {
        #expect(self.order(.oneByIndexAsc) == [0, 2, 3, 5])
        #expect(self.order(.oneByIndexDesc) == [5, 3, 2, 0])
    }

    @Test func roundRobinPolicies() {
        #expect(self.order(.oneByIdRound, callID: 0) == [0, 2, 3, 5])
        #expect(self.order(.oneByIdRound, callID: 5) == [2, 3, 5, 0])
        #expect(self.order(.oneByIdRound, callID: 7) == [5, 0, 2, 3])
        #expect(self.order(.oneBySeedRound, seed: 2) == [3, 5, 0, 2])
        // The seed picks the same node call after call, whatever the call id.
        #expect(self.order(.oneBySeedRound, callID: 9, seed: 2) == self.order(.oneBySeedRound, callID: 1, seed: 2))
    }

    @Test func measuredPoliciesBreakTiesByIndex() {
        #expect(self.order(.oneByChainHeadDesc) == [2, 5, 3, 0])
        #expect(self.order(.oneByMessagePeersDesc) == [2, 3, 0, 5])
        #expect(self.order(.oneByBlockPeersDesc) == [0, 3, 5, 2])
    }

    @Test func allWithFirstSucceedFansOutToEveryNode() {
        let order = NodePicker.order(CandidateSet(self.candidates), policy: .allWithFirstSucceed, callID: 0, seed: 0)
        #expect(order.fanOut)
        #expect(Set(order.map(\.index)) == [0, 2, 3, 5])
    }

    @Test func noCandidatesNoOrder() {
        for policy in Policy.allCases {
            #expect(NodePicker.order(CandidateSet([]), policy: policy, callID: 3, seed: 3).isEmpty)
        }
    }
}
