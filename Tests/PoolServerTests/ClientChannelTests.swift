// One client channel's rules: the id before any value, values in order, a subscriber 16
// values behind closed (as Lotus does), one close only.

import LotusWire
import PoolRuntime
@testable import PoolServer
import Synchronization
import Testing

@Suite struct ClientChannelTests {
    final class Recorder: Sendable {
        let frames = Mutex<[String]>([])
        let endings = Mutex<[ClientChannel.Ending]>([])
    }

    func channel(_ recorder: Recorder) -> ClientChannel {
        ClientChannel(
            token: 1, clientID: 7, send: { bytes, _ in recorder.frames.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) } },
            ended: { _, ending in recorder.endings.withLock { $0.append(ending) } })
    }

    @Test func valuesThatComeEarlyFollowTheIDInOrder() {
        let recorder = Recorder()
        let channel = self.channel(recorder)
        channel.deliver(.value(Array("1".utf8)))
        channel.deliver(.value(Array("2".utf8)))
        #expect(recorder.frames.withLock { $0 }.isEmpty)
        #expect(channel.attach(poolID: 3) == .open)
        channel.activate(reply: Array(#"{"id":1,"result":7}"#.utf8))
        channel.deliver(.value(Array("3".utf8)))
        let frames = recorder.frames.withLock { $0 }
        #expect(frames.first == #"{"id":1,"result":7}"#)
        #expect(frames.dropFirst().map { (try? JSON.parse($0))?["params"]?[1]?.int } == [1, 2, 3])
        #expect(frames.dropFirst().allSatisfy { (try? JSON.parse($0))?["params"]?[0]?.int == 7 })
    }

    /// A channel attached to pool channel 3 whose id answer (`{}`) was sent.
    func openChannel() -> (Recorder, ClientChannel) {
        let recorder = Recorder()
        let channel = self.channel(recorder)
        _ = channel.attach(poolID: 3)
        channel.activate(reply: Array("{}".utf8))
        return (recorder, channel)
    }

    /// What the session's writer does with each value frame on the loop: asks to write it, and
    /// reports it written when the client reads (`reading`), or leaves it unwritten.
    func writeValues(_ channel: ClientChannel, count: Int, reading: Bool) -> Int {
        var written = 0
        for _ in 0..<count where channel.willWrite() {
            written += 1
            if reading { channel.written() }
        }
        return written
    }

    @Test func aSubscriberSixteenValuesBehindItsSocketIsClosedOnce() {
        let (recorder, channel) = self.openChannel()
        for value in 0..<20 { channel.deliver(.value(Array(String(value).utf8))) }
        // Nothing given to the socket is ever written: the client is not reading.
        #expect(self.writeValues(channel, count: 20, reading: false) == ClientChannel.maxPending)
        let frames = recorder.frames.withLock { $0 }
        #expect(frames.count == 1 + 20 + 1)
        #expect(frames.last == #"{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[7]}"#)
        #expect(recorder.endings.withLock { $0 } == [.clientBehind])
        // The pool's own close afterwards changes nothing; the client's close finds it ended.
        channel.deliver(.closed)
        #expect(channel.close() == nil)
        #expect(recorder.frames.withLock { $0 }.count == frames.count)
    }

    /// Head changes that come in a burst while the loop is busy wait in its queue: a client
    /// that reads what reaches its socket is not behind, however many came at once.
    @Test func aBurstOnItsWayToTheSocketIsNotAClientBehind() {
        let (recorder, channel) = self.openChannel()
        for value in 0..<100 { channel.deliver(.value(Array(String(value).utf8))) }
        #expect(self.writeValues(channel, count: 100, reading: true) == 100)
        #expect(recorder.endings.withLock { $0 }.isEmpty)
    }

    /// What waits on its way to the socket is bounded too, should the loop never get to it.
    @Test func aChannelWhoseLoopNeverWritesIsClosedAtTheQueueBound() {
        let (recorder, channel) = self.openChannel()
        for value in 0...ClientChannel.maxQueued { channel.deliver(.value(Array(String(value).utf8))) }
        #expect(recorder.endings.withLock { $0 } == [.clientBehind])
        #expect(recorder.frames.withLock { $0 }.count == 1 + ClientChannel.maxQueued + 1)
    }

    /// Values that came before the daemon closed the channel reach the client ahead of the close.
    @Test func valuesBeforeThePoolsCloseAreStillWritten() {
        let (recorder, channel) = self.openChannel()
        for value in 0..<3 { channel.deliver(.value(Array(String(value).utf8))) }
        channel.deliver(.closed)
        #expect(self.writeValues(channel, count: 3, reading: true) == 3)
        #expect(recorder.endings.withLock { $0 } == [.byPool])
    }

    @Test func writtenValuesMakeRoomAgain() {
        let (recorder, channel) = self.openChannel()
        for value in 0..<100 {
            channel.deliver(.value(Array(String(value).utf8)))
            #expect(channel.willWrite())
            channel.written()
        }
        #expect(recorder.frames.withLock { $0 }.count == 101)
        #expect(recorder.endings.withLock { $0 }.isEmpty)
    }

    @Test func aPoolCloseBeforeTheOpenFinishedNeedsNoUpstreamClose() {
        let recorder = Recorder()
        let channel = self.channel(recorder)
        channel.deliver(.closed)
        #expect(channel.attach(poolID: 3) == .endedByPool)
        channel.activate(reply: Array("{}".utf8))
        #expect(recorder.frames.withLock { $0 } == ["{}", #"{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[7]}"#])
    }

    @Test func aClientCancelBeforeTheOpenFinishedTellsTheOpenerToClosePool() {
        let recorder = Recorder()
        let channel = self.channel(recorder)
        #expect(channel.close() == nil)
        #expect(channel.attach(poolID: 3) == .endedByClient)
    }
}
