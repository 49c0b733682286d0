// A client that stops reading its ChainNotify channel over a real socket: the channel closes
// once 16 values wait unwritten at that socket (Lotus's rule), and the connection goes on.

import FPoolTestSupport
import LotusWire
import Testing

@testable import PoolServer

@Suite(.timeLimit(.minutes(1))) struct ChannelSlowReaderTests {
    @Test func aChannelSixteenValuesBehindItsSocketClosesAndTheConnectionGoesOn() async throws {
        try await withServedPool { served in
            // The values after the 16 MiB of answers wait in fpool.
            let (peer, _) = try await unreadSocketWithTwoChannels(served)
            let tipsets = 40
            served.cluster.advance(tipsets)
            await served.logs.waitForLine(containing: "values behind on channel 1")
            // The client reads again: it gets both channels' closes and may still call.
            try await peer.setReading(true)
            await peer.waitFor(#""method":"xrpc.ch.close","params":[1]"#)
            try await peer.send(#"{"jsonrpc":"2.0","id":999,"method":"Filecoin.ChainHead","params":[]}"#)
            await peer.waitFor(#","id":999}"#)
            try await peer.sendClose()
            var valuesAfterTheFirst = 0
            for case .message(let message) in try await peer.eventsUntilClosed() {
                guard let frame = try? JSON.parse(String(decoding: message, as: UTF8.self)),
                    frame["method"]?.string == "xrpc.ch.val", frame["params"]?[0]?.int == 1
                else { continue }
                valuesAfterTheFirst += 1
            }
            valuesAfterTheFirst -= 1
            // What reached the socket before the channel closed, never every tipset.
            #expect(valuesAfterTheFirst >= ClientChannel.maxPending && valuesAfterTheFirst < tipsets)
        }
    }
}
