// Bounds the log volume of an event repeated many times, such as the same method retried after
// the same node for the same reason: the first occurrence is written at once, the rest counted
// and written as one line per interval.

/// Decides, occurrence by occurrence, which lines to write for repeatable events.
///
/// A key's first occurrence opens a window of `interval` and is written. Later occurrences in
/// the window are only counted. When the window ends (`flush`, or an occurrence after its end)
/// a count above zero becomes one summary line and a new window opens, so a steady stream
/// stays at one line per interval; a window that ends with no repeat is forgotten, and the
/// key's next occurrence is written at once again.
///
/// Concurrency: a value; its owner serialises access. Time is passed in, never read.
struct RepeatedEvents<Key: Hashable & Sendable>: Sendable {
    /// A line to write.
    enum Line: Sendable, Equatable {
        /// An occurrence to write as it is.
        case first(Key)
        /// `count` occurrences not written, over `span` (at least the interval).
        case repeated(Key, count: Int, span: Duration)
    }

    private struct Window: Sendable {
        var start: Duration
        var unwritten: Int
    }

    let interval: Duration
    private var windows: [Key: Window] = [:]

    init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// One occurrence of `key` at `now`: the line to write for it, or nil when it is counted.
    mutating func record(_ key: Key, at now: Duration) -> Line? {
        guard var window = self.windows[key] else {
            self.windows[key] = Window(start: now, unwritten: 0)
            return .first(key)
        }
        if now - window.start < self.interval {
            window.unwritten += 1
            self.windows[key] = window
            return nil
        }
        self.windows[key] = Window(start: now, unwritten: 0)
        guard window.unwritten > 0 else { return .first(key) }
        return .repeated(key, count: window.unwritten + 1, span: now - window.start)
    }

    /// The summaries of every window that ended by `now`, oldest first; windows that ended
    /// without a repeat are forgotten.
    mutating func flush(at now: Duration) -> [Line] {
        var lines: [(start: Duration, line: Line)] = []
        for (key, window) in self.windows where now - window.start >= self.interval {
            if window.unwritten > 0 {
                lines.append((window.start, .repeated(key, count: window.unwritten, span: now - window.start)))
                self.windows[key] = Window(start: now, unwritten: 0)
            } else {
                self.windows[key] = nil
            }
        }
        return lines.sorted { $0.start < $1.start }.map(\.line)
    }

    /// When the earliest window with unwritten occurrences ends; nil when none has any.
    var nextSummary: Duration? {
        self.windows.values.filter { $0.unwritten > 0 }.map { $0.start + self.interval }.min()
    }

    /// Keys with an open window (for tests: idle keys are forgotten).
    var openKeys: Int { self.windows.count }
}
