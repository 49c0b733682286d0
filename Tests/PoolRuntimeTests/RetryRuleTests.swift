// Lotus's real error texts classified, and the retry matrix: error class × route tags × effect.

import GeneratedRoutes
import LotusSim
import LotusWire
import PoolRuntime
import RouteModel
import Testing

@Suite struct ErrorClassifierTests {
    @Test(
        arguments: [
            // v1.15 and v1.36 wordings from LOTUS-WIRE.md §7.
            (1, "loading tipset {bafy2bzaceb}: get block bafy2bzaceb: blockstore: block not found", ErrorClass.blockNotFound),
            (1, "loading tipset {bafy2bzaceb}: get block bafy2bzaceb: ipld: could not find bafy2bzaceb", .blockNotFound),
            (1, "cannot get tipset from key: whatever", .blockNotFound),
            (1, "looking for tipset with height greater than start point", .blockNotFound),
            (1, "resolution lookup failed (f01234): resolve address f01234: actor not found", .actorNotFound),
            (3, "getting actor: actor not found", .actorNotFound),
            (11, "resolve address f1abc: actor not found", .actorNotFound),
            (12, "requested epoch was a null round", .nullRound),
            (1, "minimum expected nonce is 5, got 3: message nonce too low", .nonce(.tooLow)),
            (1, "message nonce has too big a gap from expected nonce (Nonce: 9, nextNonce: 5): unfulfilled nonce gap", .nonce(.gap)),
            (1, "message from f1abc with nonce 4 already in mpool: message with nonce already exists", .nonce(.alreadyInMpool)),
            (
                1,
                "message from f1abc with nonce 4 already in mpool, increase GasPremium to 1250 from 1000 : replace by fee has too low GasPremium",
                .nonce(.replaceByFeeTooLow)
            ),
            (1, "too many pending messages for actor f1abc", .nonce(.tooManyPending)),
            (1, "mpool push: failed to sign message: key not found for f1abc", .keyNotFound),
            (1, "failed to compute state: out of gas", .other),
        ] as [(Int64, String, ErrorClass)])
    func classifiesLotusTexts(_ code: Int64, _ message: String, _ expected: ErrorClass) {
        #expect(ErrorClassifier.classify(code: code, message: message) == expected)
    }

    /// What a lagging simulated daemon really answers is classified as lag.
    @Test func simulatorLagErrorsAreClassifiedAsLag() async throws {
        let cluster = try await SimCluster.start(SimConfiguration(nodes: 2, blockTime: nil))
        try await cluster.inject(.lag(epochs: 2), daemon: 1)
        cluster.advance(4)
        let fresh = try await LotusWSClient.connect(host: "127.0.0.1", port: cluster.daemons[0].port, token: cluster.daemons[0].adminToken)
        let lagging = try await LotusWSClient.connect(
            host: "127.0.0.1", port: cluster.daemons[1].port, token: cluster.daemons[1].adminToken)
        let key = try #require(try await fresh.call("Filecoin.ChainHead")["Cids"])
        for (method, params) in [
            ("Filecoin.ChainGetTipSet", [key]), ("Filecoin.ChainGetTipSetByHeight", [4, []] as [JSON]),
            ("Filecoin.StateGetActor", ["f0100", key]),
        ] {
            do {
                _ = try await lagging.call(method, params)
                Issue.record("\(method) succeeded on a lagging daemon")
            } catch let error as RPCError {
                #expect(ErrorClassifier.classify(code: error.code, message: error.message) == .blockNotFound, "\(method): \(error)")
            }
        }
        await cluster.stop()
    }
}

@Suite struct RetryRuleTests {
    let read = V1Method.stateGetActor.route  // Address + TipSetKey, read
    let untaggedRead = V1Method.chainHead.route  // no params
    let push = V1Method.mpoolPushMessage.route
    let write = V1Method.walletNew.route

    @Test func networkErrors() {
        #expect(
            RetryRule.decide(.network(.notSent), route: self.push) == .retryElsewhere(reason: "network: request never reached the node"))
        #expect(
            RetryRule.decide(.network(.maybeSent), route: self.read) == .retryElsewhere(reason: "network: no answer to an idempotent call"))
        // A push that may have arrived is looked up by CID, never blindly re-sent.
        #expect(RetryRule.decide(.network(.maybeSent), route: self.push) == .resolveAmbiguousPush)
        #expect(RetryRule.decide(.network(.maybeSent), route: self.write) == .returnAnswer)
    }

    @Test func lagErrorsFollowTheRoutesTags() {
        #expect(RetryRule.decide(.blockNotFound, route: self.read) != .returnAnswer)
        #expect(RetryRule.decide(.actorNotFound, route: self.read) != .returnAnswer)
        #expect(RetryRule.decide(.blockNotFound, route: self.untaggedRead) == .returnAnswer)
        #expect(RetryRule.decide(.actorNotFound, route: self.untaggedRead) == .returnAnswer)
        // Never re-send a push or write after it reached a node, whatever it said.
        #expect(RetryRule.decide(.actorNotFound, route: self.push) == .returnAnswer)
        #expect(RetryRule.decide(.blockNotFound, route: V1Method.walletSignMessage.route) == .returnAnswer)
    }

    /// Routes that carry the lag tags but must never be re-sent: the tag alone does not allow a retry.
    @Test(arguments: [
        (V1Method.chainSetHead, ErrorClass.blockNotFound),  // write, TipSetKey
        (V1Method.marketGetReserved, .actorNotFound),  // write, Address
        (V1Method.walletSignMessage, .actorNotFound),  // write, Address
        (V1Method.marketAddBalance, .actorNotFound),  // push, Address
    ])
    func lagErrorsOnTaggedWritesAndPushesAreReturned(_ method: V1Method, _ error: ErrorClass) {
        let tag: RetryTags = error == .blockNotFound ? .blockNotFound : .actorNotFound
        // The route really carries the tag, so only its effect stands between it and a retry.
        #expect(method.route.retryTags.contains(tag))
        #expect(method.route.effect != .read)
        #expect(RetryRule.decide(error, route: method.route) == .returnAnswer)
    }

    @Test func realAnswersAreReturned() {
        for error in [ErrorClass.nullRound, .keyNotFound, .other, .nonce(.tooLow), .nonce(.gap), .nonce(.replaceByFeeTooLow)] {
            #expect(RetryRule.decide(error, route: self.read) == .returnAnswer)
            #expect(RetryRule.decide(error, route: self.push) == .returnAnswer)
        }
    }

    @Test func anIdenticalPushAlreadyInTheMpoolSucceeded() {
        #expect(RetryRule.decide(.nonce(.alreadyInMpool), route: V1Method.mpoolPush.route) == .treatAsSuccess)
        #expect(RetryRule.decide(.nonce(.alreadyInMpool), route: self.read) == .returnAnswer)
    }
}
