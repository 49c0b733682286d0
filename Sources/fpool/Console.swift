// Unbuffered output for long-running commands, whose lines must reach a pipe or a log file
// when printed, not when the process exits.

import Foundation

enum Console {
    static func line(_ text: String = "") {
        self.write(text + "\n")
    }

    /// Writes `text` as it is (a terminal's control sequences).
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
