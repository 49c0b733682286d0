// Waiting for Ctrl-C (SIGINT) or SIGTERM in foreground commands (`fpool sim`).

import Dispatch
import Foundation

enum InterruptSignal {
    /// Returns when the process receives SIGINT or SIGTERM (their default action is disabled,
    /// so the command can shut down cleanly instead of dying mid-write).
    static func wait() async {
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        for await _ in signals { break }
        sources.forEach { $0.cancel() }
    }
}
