// Turns a Lotus release's API documents into a spec, keeping the hand-tuned fields of a base spec.

@_spi(Generated) import RouteModel

/// Imports one API version of one Lotus release.
///
/// The methods markdown is the list of methods (it has every method, with its permission);
/// the OpenRPC document supplies Go parameter types wherever its examples agree with the
/// markdown's, which also tells a v0 signature from a changed v1 one. Methods the OpenRPC
/// document lacks get kinds inferred from the markdown examples and are listed for review.
public struct LotusImporter: Sendable {
    /// What an import produced: the spec to write and what a human should check before writing it.
    public struct Result: Sendable {
        /// The spec for the release: its methods sorted by name, with base methods the release no longer
        /// serves kept and marked `removed=`.
        public let document: SpecDocument
        /// Decisions a human should look at: inferred params, assumed permissions, removals.
        public let review: [String]
    }

    let openRPC: OpenRPCDocument
    let markdown: MethodsMarkdown
    let markdownFile: String
    let api: APIVersion
    let base: SpecDocument?

    /// An importer of `api`'s methods; nothing is read or checked until `run()`.
    ///
    /// - Parameters:
    ///   - openRPC: the release's OpenRPC document, which supplies Go parameter types and the release name.
    ///   - markdown: the release's methods markdown for `api`, which lists the methods and their permissions.
    ///   - markdownFile: the markdown's path, named in diagnostics.
    ///   - api: the API version being imported.
    ///   - base: the current spec whose hand-tuned fields and comments are kept; nil for a first import,
    ///     which takes every method's starting fields from `ImportDefaults`.
    public init(openRPC: OpenRPCDocument, markdown: MethodsMarkdown, markdownFile: String, api: APIVersion, base: SpecDocument?) {
        self.openRPC = openRPC
        self.markdown = markdown
        self.markdownFile = markdownFile
        self.api = api
        self.base = base
    }

    /// - Throws: `DiagnosticsError` for Go types no mapping covers (each named, with the method
    ///   and the markdown line), and for a base spec of another API version.
    public func run() throws(DiagnosticsError) -> Result {
        var diagnostics: [Diagnostic] = []
        var review: [String] = []
        if let base, base.api != self.api {
            throw DiagnosticsError([
                Diagnostic(file: "--base", line: 0, message: "base spec is for api \(base.api.rawValue), importing \(self.api.rawValue)")
            ])
        }
        var methods: [SpecMethod] = []
        var seen: Set<String> = []
        for doc in self.markdown.methods where seen.insert(doc.name).inserted {
            let old = self.base?.method(named: doc.name)
            var inferred: [String] = []
            guard let typed = self.params(of: doc, diagnostics: &diagnostics, review: &inferred) else { continue }
            let params = Self.correctingEpochs(typed, of: doc.name)
            // What the base spec, already reviewed, has with the same kinds needs no second
            // look: a bump's review lists what is new or changed, not the same methods the
            // OpenRPC document leaves out in every release (so `--strict` can guard a bump).
            if old?.entry.params != params { review += inferred }
            let perm: Perm
            if let docPerm = doc.perm {
                perm = docPerm
            } else if let old {
                // Decided when the method was first imported; the base spec was reviewed.
                perm = old.entry.perm
            } else {
                perm = .admin
                review.append("\(doc.name): the markdown has no Perms; assumed 'admin', the most restrictive")
            }
            methods.append(self.method(doc: doc, perm: perm, params: params, old: old, review: &review))
        }
        for old in self.base?.methods ?? [] where !seen.contains(old.name) {
            var kept = old
            if old.entry.removedIn == nil {
                kept.entry = old.entry.with(removedIn: self.openRPC.release)
                review.append("\(old.name): not in \(self.openRPC.release); kept for older clients, marked removed=\(self.openRPC.release)")
            }
            methods.append(kept)
        }
        guard diagnostics.isEmpty else { throw DiagnosticsError(diagnostics) }
        let header =
            self.base?.headerComments ?? [
                "Lotus FullNode API \(self.api.rawValue): fpool's routing spec. Format: api-spec/README.md.",
                "Written by `apigen import`; comments above a method and its policy, filter, nohang,",
                "timeout, effect, seed and result fields are hand-tuned and survive a re-import.",
            ]
        let document = SpecDocument(
            api: self.api, lotusRelease: self.openRPC.release, headerComments: header,
            methods: methods.sorted { $0.name < $1.name })
        return Result(document: document, review: review)
    }

    private func method(doc: MethodsMarkdown.Method, perm: Perm, params: ParamKinds, old: SpecMethod?, review: inout [String]) -> SpecMethod
    {
        let category = ImportDefaults.category(of: doc.name)
        guard let old else {
            let decision = ImportDefaults.decide(name: doc.name, perm: perm, responseExample: doc.response)
            let cache = ImportDefaults.proposedCache(name: doc.name, params: params, effect: decision.effect, result: decision.result)
            if cache != .none { review.append("\(doc.name): proposed cache=\(cache) (params \(params)); review") }
            let entry = RouteEntry(
                name: doc.name, category: category, perm: perm, params: params, result: decision.result,
                policy: decision.policy, filter: .all, nohang: false, timeout: .zero, effect: decision.effect,
                seed: decision.seed, removedIn: nil, cache: cache)
            // Arrived since the base spec's release: marked with this one.
            return SpecMethod(entry: entry, comments: decision.comments, addedIn: self.base == nil ? nil : self.openRPC.release)
        }
        var seed = old.entry.seed
        if let oldSeed = seed, oldSeed.param >= params.count || (oldSeed.path.isEmpty && params[oldSeed.param] != .address) {
            review.append("\(doc.name): params changed to \(params); seed \(oldSeed) no longer fits and was dropped")
            seed = nil
        }
        if old.entry.removedIn != nil {
            review.append("\(doc.name): back in \(self.openRPC.release); removed mark cleared")
        }
        var cache = old.entry.cache
        if cache == .tipset && !params.contains(.tipSetKey) {
            review.append("\(doc.name): params changed to \(params); cache=tipset no longer fits and was dropped")
            cache = .none
        }
        let entry = RouteEntry(
            name: doc.name, category: category, perm: perm, params: params, result: old.entry.result,
            policy: old.entry.policy, filter: old.entry.filter, nohang: old.entry.nohang, timeout: old.entry.timeout,
            effect: old.entry.effect, seed: seed, removedIn: nil, cache: cache)
        return SpecMethod(entry: entry, comments: old.comments, addedIn: old.addedIn)
    }

    /// Turns epoch-typed counts and durations into `Other` (see ImportDefaults).
    private static func correctingEpochs(_ params: ParamKinds, of name: String) -> ParamKinds {
        guard let positions = ImportDefaults.epochsThatAreNotHeights[name] else { return params }
        var kinds = Array(params)
        for position in positions.keys where position < kinds.count && kinds[position] == .epoch {
            kinds[position] = .other
        }
        return ParamKinds(kinds)
    }

    /// The method's kinds from OpenRPC Go types when its examples match the markdown's,
    /// else inferred from the markdown examples.
    private func params(of doc: MethodsMarkdown.Method, diagnostics: inout [Diagnostic], review: inout [String]) -> ParamKinds? {
        guard doc.inputs.count <= ParamKinds.capacity else {
            diagnostics.append(
                Diagnostic(
                    file: self.markdownFile, line: doc.line,
                    message: "\(doc.name): \(doc.inputs.count) params; at most \(ParamKinds.capacity) supported"))
            return nil
        }
        if let typed = self.openRPC.methods[doc.name], typed.params.count == doc.inputs.count,
            zip(typed.params, doc.inputs).allSatisfy({ $0.example == nil || $0.example == $1 })
        {
            var kinds: [ParamKind] = []
            for (position, param) in typed.params.enumerated() {
                if let kind = GoTypeMap.kind(of: param.goType) {
                    kinds.append(kind)
                } else if let kind = GoTypeMap.kindIgnoringPackage(of: param.goType) {
                    kinds.append(kind)
                    review.append(
                        "\(doc.name): param \(position) Go type '\(param.goType)' is known under another package as \(kind); map it in GoTypeMap to confirm"
                    )
                } else {
                    // Never stops the import: the example Lotus's doc generator writes per type
                    // says what the value looks like.
                    let kind = ExampleKindInference.kind(of: param.example ?? doc.inputs[position])
                    kinds.append(kind)
                    review.append(
                        "\(doc.name): param \(position) Go type '\(param.goType)' is not in GoTypeMap; \(kind) inferred from its example"
                    )
                }
            }
            return ParamKinds(kinds)
        }
        let kinds = ParamKinds(doc.inputs.map(ExampleKindInference.kind(of:)))
        let why = self.openRPC.methods[doc.name] == nil ? "not in the OpenRPC document" : "signature differs from the OpenRPC document"
        review.append("\(doc.name): \(why); params \(kinds) inferred from the markdown example")
        return kinds
    }
}

extension RouteEntry {
    /// A copy with another `removedIn`.
    func with(removedIn: String?) -> RouteEntry {
        RouteEntry(
            name: self.name, category: self.category, perm: self.perm, params: self.params, result: self.result,
            policy: self.policy, filter: self.filter, nohang: self.nohang, timeout: self.timeout, effect: self.effect,
            seed: self.seed, removedIn: removedIn, cache: self.cache)
    }
}
