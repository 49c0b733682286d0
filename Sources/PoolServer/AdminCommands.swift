// The operator's text commands (`config set`, `api set`, `api show`, `api why`) turned into the
// pool's typed calls: names looked up with a "did you mean", values parsed, refusals worded
// with the command an operator would use instead.

import GeneratedRoutes
import PoolRuntime
import RouteModel

extension Pool {
    /// `config set --key=<key> --val=<value>`.
    ///
    /// - Throws: `SettingsError` naming the key and what it accepts.
    public func setSetting(_ key: String, to value: String) throws(SettingsError) {
        try self.updateSettings { (settings: inout PoolSettings) throws(SettingsError) in try settings.set(key, to: value) }
    }

    /// `api show --api=<name>`: the settings of one API.
    public func apiSettings(_ name: String, version: APIVersion = .v1) throws(PoolCommandError) -> APIRouteOverride {
        self.apiSettings(for: try Self.route(named: name, version: version))
    }

    /// `api set --api=<name> --key=<key> --val=<value>`; the name is looked up in v1, then v0.
    public func setAPI(_ name: String, key: String, to value: String) throws(PoolCommandError) {
        guard let id = RouteTable.lookup(.v1, name: name) ?? RouteTable.lookup(.v0, name: name) else {
            throw Self.unknownAPI(name, version: .v1)
        }
        // Asked before parsing the value: `hedge=off` on a push is as meaningless as `hedge=1s`.
        if key == "hedge", let refusal = Self.hedgeRefusal(id.route) { throw refusal }
        if key == "policy", let policy = try? PolicyChoice(specWord: value), let refusal = Self.policyRefusal(id.route, policy: policy) {
            throw PoolCommandError(refusal.description + "; use `fpool primary set --seed=<actor> --nid=<node>` to move a sender")
        }
        try self.updateOverride(for: id) { (override: inout APIRouteOverride) throws(PoolCommandError) in
            do throws(SettingsError) {
                try override.set(key, to: value)
            } catch {
                throw PoolCommandError(error.description)
            }
        }
    }

    /// `api why --api=<name>`: the routing of the next call, node by node.
    ///
    /// `params`: the call's JSON params array, to say whether it would be answered from the cache.
    public func explain(
        _ name: String, version: APIVersion = .v1, sender: String? = nil, height: Int64? = nil, params: [UInt8]? = nil
    ) throws(PoolCommandError) -> RoutingExplanation {
        let id = try Self.route(named: name, version: version)
        let fixed = params.map { CallFactsReader.facts(route: id.route, params: $0).fixedTipsets } ?? false
        return self.explain(id, sender: sender, height: height, params: params, fixedTipsets: fixed)
    }

    /// The method an operator named, or an error with the nearest name.
    static func route(named name: String, version: APIVersion) throws(PoolCommandError) -> RouteID {
        guard let id = RouteTable.lookup(version, name: name) else { throw self.unknownAPI(name, version: version) }
        return id
    }

    static func unknownAPI(_ name: String, version: APIVersion) -> PoolCommandError {
        let hint = NameSuggestion.closest(to: name, among: RouteTable.entries(version).map(\.name)).map { "; did you mean \($0)?" } ?? ""
        return PoolCommandError("unknown API '\(name)'\(hint) (`fpool api list` shows them all)")
    }
}
