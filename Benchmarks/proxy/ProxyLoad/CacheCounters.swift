// fpool's result-cache counters as its Prometheus endpoint shows them: hits and misses summed
// over methods, read at a window's edges to give the window's hit ratio.

import LoadKit

/// Cache hits and misses (a reading, or the growth between two).
struct CacheCounts: Sendable {
    var hits: Double = 0
    var misses: Double = 0

    /// Hits per cache lookup; nil when nothing was looked up.
    var hitRatio: Double? { self.hits + self.misses > 0 ? self.hits / (self.hits + self.misses) : nil }

    static func - (lhs: CacheCounts, rhs: CacheCounts) -> CacheCounts {
        CacheCounts(hits: lhs.hits - rhs.hits, misses: lhs.misses - rhs.misses)
    }

    /// Reads `fpool_cache_hits_total` and `fpool_cache_misses_total` (every method's series
    /// added up) from fpool's `/metrics` on `port`. fpool adds to these counters when scraped,
    /// so a reading is exact as of the scrape.
    ///
    /// - Throws: when /metrics does not answer 200.
    static func read(port: Int) async throws -> CacheCounts {
        let response = try await Connect.request(port: port, path: "/metrics", timeout: .seconds(5))
        guard response.status == 200 else { throw BenchError("fpool /metrics on port \(port): HTTP \(response.status)") }
        var counts = CacheCounts()
        for line in response.text.split(separator: "\n") where !line.hasPrefix("#") {
            // `name{labels} value` or `name value`.
            let name = line.prefix { $0 != "{" && $0 != " " }
            guard let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            switch name {
            case "fpool_cache_hits_total": counts.hits += value
            case "fpool_cache_misses_total": counts.misses += value
            default: break
            }
        }
        return counts
    }
}
