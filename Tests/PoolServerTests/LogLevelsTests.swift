// Log levels per system: `log set-level` changes one system at once; a logger of a system it
// does not manage (the simulator's) follows the default it was given.

import Logging
import PoolServer
import Synchronization
import Testing

@Suite struct LogLevelsTests {
    @Test func aSystemOutsideTheTableFollowsTheDefaultLevel() throws {
        let levels = LogLevels(default: .warning)
        #expect(levels.level(of: "sim") == .warning)
        #expect(levels.level(of: "fullpool") == .warning)
        let lines = Mutex<[String]>([])
        let sim = levels.logger("sim") { line in lines.withLock { $0.append(line) } }
        sim.info("hidden at warning")
        sim.warning("shown")
        #expect(lines.withLock { $0.count } == 1)
        try levels.set("fullpool", to: "debug")
        #expect(levels.level(of: "fullpool") == .debug)
        #expect(levels.level(of: "sim") == .warning)
        #expect(throws: LogLevelError.self) { try levels.set("sim", to: "debug") }
    }
}
