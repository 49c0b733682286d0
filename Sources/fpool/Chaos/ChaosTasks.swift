// The tasks of one chaos run, so that cancelling the run (a test past its time limit, Ctrl-C)
// cancels every worker at once instead of letting each run out its own clock.

import Synchronization

final class ChaosTasks: Sendable {
    private let cancels = Mutex<(handles: [@Sendable () -> Void], cancelled: Bool)>(([], false))

    /// Starts `work` as a task of the run.
    func start<Result: Sendable>(_ work: @escaping @Sendable () async -> Result) -> Task<Result, Never> {
        let task = Task { await work() }
        let cancelled = self.cancels.withLock { cancels in
            if !cancels.cancelled { cancels.handles.append { task.cancel() } }
            return cancels.cancelled
        }
        if cancelled { task.cancel() }
        return task
    }

    func cancelAll() {
        let handles = self.cancels.withLock { cancels in
            cancels.cancelled = true
            defer { cancels.handles = [] }
            return cancels.handles
        }
        handles.forEach { $0() }
    }
}
