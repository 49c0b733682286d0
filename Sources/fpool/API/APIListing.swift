// Turns route entries into `fpool api list` rows: the seed's text table and the JSON objects.

import RouteModel

/// One method as `fpool api list` shows it.
struct APIListRow: Encodable, Equatable {
    let category: String
    let api: String
    let perm: String
    let params: [String]
    let result: String
    /// The policy in force: the route's own, or the pool's DefaultPolicy.
    let policy: String
    /// True when `policy` is the pool default rather than fixed for this method.
    let policyIsDefault: Bool
    let filter: String
    let nohang: Bool
    let timeout: String
    let effect: String
    let retry: [String]
    let seed: String?
    let removedIn: String?
    let callId: UInt64
    /// Whether answers are cached: none, content or tipset.
    let cache: String
}

/// An API's settings as the running pool has them (`api set`).
struct APIOverride: Equatable {
    let policy: String
    let nohang: Bool
    let timeout: String
    let filter: String
    var cache: String? = nil
}

enum APIListing {
    /// Categories present in `entries`, in the order the seed lists them.
    static func categories(of entries: [RouteEntry]) -> [Category] {
        let present = Set(entries.map(\.category))
        return Category.allCases.filter(present.contains)
    }

    /// Rows ordered by category (seed order), then name.
    static func rows(
        _ entries: [RouteEntry], poolDefault: Policy, callIds: [String: UInt64], overrides: [String: APIOverride] = [:]
    ) -> [APIListRow] {
        let order = Dictionary(uniqueKeysWithValues: Category.allCases.enumerated().map { ($1, $0) })
        return
            entries
            .sorted { (order[$0.category]!, $0.name) < (order[$1.category]!, $1.name) }
            .map { entry in
                let override = overrides[entry.name]
                let policy = override.flatMap { try? PolicyChoice(specWord: $0.policy) } ?? entry.policy
                return APIListRow(
                    category: entry.category.rawValue, api: entry.name, perm: entry.perm.rawValue,
                    params: entry.params.map(\.specWord), result: entry.result.rawValue,
                    policy: policy.resolved(poolDefault: poolDefault).rawValue,
                    policyIsDefault: policy == .poolDefault, filter: override?.filter ?? entry.filter.rawValue,
                    nohang: override?.nohang ?? entry.nohang, timeout: override?.timeout ?? entry.timeout.description,
                    effect: entry.effect.rawValue,
                    retry: entry.retryTags.description == "-" ? [] : entry.retryTags.description.split(separator: ",").map(String.init),
                    seed: entry.seed?.description, removedIn: entry.removedIn, callId: callIds[entry.name] ?? 0,
                    cache: override?.cache ?? entry.cache.rawValue)
            }
    }

    /// The seed's table, `Cate  Api  CallId  Filter  Policy  NoHang  Timeout`, and fpool's `Cache`, columns
    /// padded to their widest cell plus two spaces.
    static func table(_ rows: [APIListRow]) -> String {
        let header = ["Cate", "Api", "CallId", "Filter", "Policy", "NoHang", "Timeout", "Cache"]
        let cells =
            [header]
            + rows.map { [$0.category, $0.api, String($0.callId), $0.filter, $0.policy, String($0.nohang), $0.timeout, $0.cache] }
        return TextTable.render(cells)
    }
}
