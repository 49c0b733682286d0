// The error every spec word parser throws: which field, what it got, and what it accepts.

/// A word that is not part of fpool's routing vocabulary (a policy, permission, param kind, …).
///
/// The description is one line that names the field, the bad value and every valid choice,
/// so a typo in a spec file, an environment variable or a CLI flag explains itself.
public struct VocabularyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of word was expected, such as "policy" or "param kind" (a `SpecWord`'s `fieldName`).
    public let field: String
    /// The rejected word, exactly as given.
    public let value: String
    /// Every accepted spelling, in the order error messages list them.
    public let valid: [String]

    /// An error for `value`, a bad `field` word; `valid` lists what the field accepts.
    public init(field: String, value: String, valid: [String]) {
        self.field = field
        self.value = value
        self.valid = valid
    }

    /// One line: "unknown <field> '<value>'; expected one of: <valid, …>".
    public var description: String {
        "unknown \(self.field) '\(self.value)'; expected one of: \(self.valid.joined(separator: ", "))"
    }
}

/// A closed set of words with one canonical spelling each (the raw value).
public protocol SpecWord: RawRepresentable, CaseIterable, Sendable where RawValue == String {
    /// What the word is called in error messages ("policy", "perm", …).
    static var fieldName: String { get }
}

extension SpecWord {
    /// Parses the canonical spelling; throws a `VocabularyError` listing the valid words.
    public static func parse(_ word: some StringProtocol) throws(VocabularyError) -> Self {
        if let value = Self(rawValue: String(word)) {
            return value
        }
        throw VocabularyError(field: Self.fieldName, value: String(word), valid: Self.allCases.map(\.rawValue))
    }
}
