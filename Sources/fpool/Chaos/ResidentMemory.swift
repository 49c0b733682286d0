// The process's resident memory, from Linux's /proc: the harness, the simulated daemons and
// fpool share the process, so their growth shows together.

import Foundation

enum ResidentMemory {
    /// VmRSS in bytes; nil where /proc is not there (macOS).
    static func current() -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = UInt64(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    /// "123.4 MiB".
    static func figure(_ bytes: UInt64) -> String {
        "\((Double(bytes) / 1_048_576 * 10).rounded() / 10) MiB"
    }
}
