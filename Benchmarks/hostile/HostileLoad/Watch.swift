// What a run watches while a hostile pattern goes on: the proxy's and the daemons' resident
// memory (sampled from /proc every 100 ms), and which phase of the run it is.

import Foundation
import Glibc
import LoadKit
import Synchronization

/// The part of a run a call or sample belongs to.
enum Phase: Int, Sendable, Codable, CaseIterable {
    /// Before the pattern: the good clients' baseline.
    case quiet
    /// While the hostile connections are open.
    case hostile
    /// After they closed, while the proxy settles.
    case after
}

/// The current phase, read by every loop.
final class PhaseClock: Sendable {
    private let value = Atomic<Int>(Phase.quiet.rawValue)

    var phase: Phase { Phase(rawValue: self.value.load(ordering: .relaxed)) ?? .quiet }

    func enter(_ phase: Phase) { self.value.store(phase.rawValue, ordering: .relaxed) }
}

/// Resident memory of the proxy (all its processes) and of the simulated daemons, sampled.
final class MemoryWatch: Sendable {
    private struct State {
        var latestProxy = 0
        var peakProxy = 0
        var peakSim = 0
        var latestSim = 0
        var peakDisk = 0
    }

    let proxyPIDs: @Sendable () -> [Int32]
    let simPID: Int32
    let tempDirectory: String?
    private let state = Mutex(State())

    init(proxyPIDs: @escaping @Sendable () -> [Int32], simPID: Int32, tempDirectory: String?) {
        self.proxyPIDs = proxyPIDs
        self.simPID = simPID
        self.tempDirectory = tempDirectory
    }

    /// Samples every 100 ms until cancelled.
    func run() async {
        while !Task.isCancelled {
            self.sample()
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    func sample() {
        let sim = ProcFS.vm(self.simPID) ?? 0
        let pids = self.proxyPIDs()
        let proxy = ProcFS.totalRSS(pids)
        let disk = self.tempDirectory.map { Self.bytesOpen(under: $0, by: pids) } ?? 0
        self.state.withLock { state in
            state.latestProxy = proxy
            state.peakProxy = max(state.peakProxy, proxy)
            state.latestSim = sim
            state.peakSim = max(state.peakSim, sim)
            state.peakDisk = max(state.peakDisk, disk)
        }
    }

    /// Starts the peaks again from the latest sample (the pattern begins).
    func resetPeaks() {
        self.sample()
        self.state.withLock { state in
            state.peakProxy = state.latestProxy
            state.peakSim = state.latestSim
            state.peakDisk = 0
        }
        // The kernel's own high-water mark (VmHWM) starts again too.
        for pid in self.proxyPIDs() {
            try? "5".write(toFile: "/proc/\(pid)/clear_refs", atomically: false, encoding: .utf8)
        }
    }

    /// KiB: the proxy's latest and peak RSS, the daemons' latest and peak; bytes on disk at peak.
    var figures: (proxy: Int, proxyPeak: Int, sim: Int, simPeak: Int, diskPeak: Int) {
        self.state.withLock { ($0.latestProxy, $0.peakProxy, $0.latestSim, $0.peakSim, $0.peakDisk) }
    }

    /// The sum of the proxy processes' VmHWM (KiB) since `resetPeaks`.
    var highWaterMark: Int { self.proxyPIDs().compactMap { ProcFS.vm($0, "VmHWM") }.reduce(0, +) }

    /// Bytes in the files under `path` that these processes hold open. nginx unlinks a request
    /// body's temp file as soon as it creates it, so only its open descriptor shows the file.
    static func bytesOpen(under path: String, by pids: [Int32]) -> Int {
        var total = 0
        for pid in pids {
            let folder = "/proc/\(pid)/fd"
            guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for descriptor in descriptors {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/" + descriptor),
                    target.hasPrefix(path)
                else { continue }
                var info = stat()
                if stat(folder + "/" + descriptor, &info) == 0 { total += Int(info.st_size) }
            }
        }
        return total
    }
}
