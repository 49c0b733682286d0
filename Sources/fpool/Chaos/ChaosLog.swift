// Where the pool's and the simulator's log lines go during a chaos run: the last few kept in
// memory (shown when an invariant fails), and every line to a file when one is given.

import Foundation
import Synchronization

final class ChaosLog: Sendable {
    /// Lines kept for a failure's diagnosis.
    static let kept = 300

    private let tail = Mutex<(lines: [String], next: Int)>(([], 0))
    private let file: FileHandle?

    /// - Throws: when `path` cannot be created.
    init(path: String?) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw CLIError("--log: cannot create \(path)")
            }
            self.file = handle
        } else {
            self.file = nil
        }
    }

    var sink: @Sendable (String) -> Void {
        { line in
            self.tail.withLock { tail in
                // A ring: memory stays flat however long the run.
                if tail.lines.count < Self.kept {
                    tail.lines.append(line)
                } else {
                    tail.lines[tail.next] = line
                }
                tail.next = (tail.next + 1) % Self.kept
                // Under the lock, so that lines reach the file in the order they were logged.
                self.file?.write(Data((line + "\n").utf8))
            }
        }
    }

    /// The kept lines, oldest first.
    var lastLines: [String] {
        self.tail.withLock { tail in
            tail.lines.count < Self.kept ? tail.lines : Array(tail.lines[tail.next...] + tail.lines[..<tail.next])
        }
    }

    func close() {
        try? self.file?.close()
    }
}
