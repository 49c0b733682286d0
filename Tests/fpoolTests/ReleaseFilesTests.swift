// The files operators install with the release binary: the systemd unit verifies cleanly with
// systemd-analyze (where the machine has it), pointed at the built fpool and the example
// environment file.

import FPoolTestSupport
import Foundation
import Testing

@Suite struct ReleaseFilesTests {
    static let systemdAnalyze: String? = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static func scripts(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "scripts/\(name)")
    }

    @Test(.enabled(if: Self.systemdAnalyze != nil, "needs systemd-analyze (Debian's systemd package)"))
    func theSystemdUnitVerifies() throws {
        let analyze = try #require(Self.systemdAnalyze)
        let directory = FileManager.default.temporaryDirectory.appending(path: "fpool-unit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let environmentFile = directory.appending(path: "fpool.env")
        try FileManager.default.copyItem(at: Self.scripts("fpool.env.example"), to: environmentFile)
        let unit = try String(contentsOf: Self.scripts("fpool.service"), encoding: .utf8)
        // What an operator's unit must say: restarted always, stopped gracefully by SIGTERM, configured from a file.
        for line in ["Restart=always", "KillSignal=SIGTERM", "EnvironmentFile=/etc/fpool/fpool.env", "ExecStart=/usr/local/bin/fpool run"] {
            #expect(unit.split(separator: "\n").contains(Substring(line)), "fpool.service lacks \(line)")
        }
        let installed = unit.replacingOccurrences(of: "/usr/local/bin/fpool", with: ProcessRunner.builtProduct("fpool").path)
            .replacingOccurrences(of: "/etc/fpool/fpool.env", with: environmentFile.path)
        let file = directory.appending(path: "fpool.service")
        try installed.write(to: file, atomically: true, encoding: .utf8)
        let outcome = try ProcessRunner.runBlocking(URL(fileURLWithPath: analyze), ["verify", file.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        // systemd-analyze warns of a bad directive and still exits 0: the unit must draw no remark at all.
        #expect(outcome.stderr.isEmpty && outcome.stdout.isEmpty, "\(outcome.stdout)\(outcome.stderr)")
    }
}
