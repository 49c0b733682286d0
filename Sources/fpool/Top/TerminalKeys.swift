// Keys typed at `fpool top` in a terminal: the terminal is put in raw mode (no echo, no line
// buffering) so `q` acts at once, and restored as it was when top ends.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Foundation

/// The controlling terminal in raw mode while top runs. Concurrency: made and restored by the
/// command's task; the reader runs on a thread of its own, blocked in `read`.
final class TerminalKeys: Sendable {
    private let saved: termios

    /// Raw mode on standard input; nil when it is not a terminal.
    init?() {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return nil }
        self.saved = settings
        var raw = settings
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &raw)
    }

    /// Returns when `q` (or Ctrl-D) is typed.
    func quitPressed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                var byte: UInt8 = 0
                while read(STDIN_FILENO, &byte, 1) == 1 {
                    if byte == UInt8(ascii: "q") || byte == UInt8(ascii: "Q") || byte == 4 { break }
                }
                continuation.resume()
            }
        }
    }

    /// The terminal as it was.
    func restore() {
        var settings = self.saved
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }
}
