// A test's wait on the simulated world (a count of StateWaitMsg callers, of open channels).
// It ends when the world gets there or when the waiting task is cancelled: a test past its
// time limit then fails, instead of hanging the whole run on a count that never comes.

import Synchronization

/// One wait, resumed once by whichever comes first: the world (`fire`) or cancellation.
final class SimWatch: Sendable {
    private struct Guarded {
        var continuation: CheckedContinuation<Void, Never>?
        var fired = false
    }

    private let guarded = Mutex(Guarded())

    /// Resumes the wait, once. The continuation is taken under the lock and resumed outside it:
    /// a cancellation handler resuming the same wait may hold its task's status lock.
    func fire() {
        let continuation = self.guarded.withLock { guarded -> CheckedContinuation<Void, Never>? in
            guarded.fired = true
            return guarded.continuation.take()
        }
        continuation?.resume()
    }

    /// Waits until `register` is given the watch and it, the world, or cancellation fires it;
    /// `register` returns true when what is waited for holds already.
    static func wait(_ register: (SimWatch) -> Bool) async {
        let watch = SimWatch()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let fired = watch.guarded.withLock { guarded -> Bool in
                    if !guarded.fired { guarded.continuation = continuation }
                    return guarded.fired
                }
                if fired {
                    continuation.resume()
                } else if register(watch) || Task.isCancelled {
                    watch.fire()
                }
            }
        } onCancel: {
            watch.fire()
        }
    }
}
