// Log levels an operator changes at runtime (`fpool log set-level --system=fullpool warn`),
// read by every log call of that system.

import Foundation
import Logging
import Synchronization

/// The level of each log system; shared by the handlers of a process.
public final class LogLevels: Sendable {
    /// `fullpool`: the pool's decisions (nodes, retries, channels); `rpc`: the client-facing
    /// server; `upstream`: connections to daemons.
    public static let systems = ["fullpool", "rpc", "upstream"]
    private let levels: Mutex<[String: Logger.Level]>
    /// The level of a logger whose system `log set-level` cannot change (the simulator's `sim`).
    private let defaultLevel: Logger.Level

    /// Every system starts at `level` (`info` unless given).
    public init(default level: Logger.Level = .info) {
        self.levels = Mutex(Dictionary(uniqueKeysWithValues: Self.systems.map { ($0, level) }))
        self.defaultLevel = level
    }

    /// The current level of `system`; the default level for a name not in `systems`. Takes a
    /// lock, so loggers see a change at once.
    public func level(of system: String) -> Logger.Level { self.levels.withLock { $0[system] } ?? self.defaultLevel }

    /// Sets one system's level (`log set-level`); `warn` is taken for `warning`.
    ///
    /// - Throws: `LogLevelError` naming the valid systems or levels.
    public func set(_ system: String, to level: String) throws(LogLevelError) {
        guard Self.systems.contains(system) else {
            throw LogLevelError("unknown log system '\(system)'; systems: \(Self.systems.joined(separator: ", "))")
        }
        guard let parsed = Logger.Level(rawValue: level.lowercased()) ?? (level.lowercased() == "warn" ? .warning : nil) else {
            throw LogLevelError(
                "unknown log level '\(level)'; levels: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")) (warn = warning)")
        }
        self.levels.withLock { $0[system] = parsed }
    }

    /// A logger of `system` whose level follows this table, writing to `sink`.
    public func logger(_ system: String, sink: @escaping @Sendable (String) -> Void) -> Logger {
        Logger(label: system) { label in LevelledLogHandler(system: label, levels: self, sink: sink) }
    }
}

/// A `log set-level` naming an unknown system or level; the description lists the valid ones.
public struct LogLevelError: Error, Sendable, CustomStringConvertible {
    /// One line naming the bad system or level and every accepted value.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Writes `time level system: message key=value…` lines to a sink, at the system's current level.
struct LevelledLogHandler: LogHandler {
    let system: String
    let levels: LogLevels
    let sink: @Sendable (String) -> Void
    var metadata: Logger.Metadata = [:]

    var logLevel: Logger.Level {
        get { self.levels.level(of: self.system) }
        set { try? self.levels.set(self.system, to: newValue.rawValue) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var text = "\(Date.now.formatted(.iso8601)) \(event.level) \(self.system): \(event.message)"
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        if let error = event.error { text += " error=\(error)" }
        self.sink(text)
    }
}
