// Errors and notes about an input file, printed the way compilers print them.

/// One problem (or note) at a place in an input file.
///
/// `description` is `file:line: error: message`, which SwiftPM and editors turn into a build
/// error pointing at the spec line.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How serious a diagnostic is; its raw value is the word compilers print (`error`, `warning`, `note`).
    /// Everything APIGenCore reports today is an `error`.
    public enum Severity: String, Sendable {
        case error, warning, note
    }

    /// The input file as the caller named it (a path, or a label such as `--base`), printed first.
    public let file: String
    /// 1-based; 0 when the problem concerns the file as a whole.
    public let line: Int
    /// Printed between the place and the message.
    public let severity: Severity
    /// What is wrong, naming the method or field concerned and, where it helps, what was expected.
    public let message: String

    /// A diagnostic at `line` of `file` (0 for the file as a whole); an error unless `severity` says otherwise.
    public init(file: String, line: Int, severity: Severity = .error, message: String) {
        self.file = file
        self.line = line
        self.severity = severity
        self.message = message
    }

    /// `file:line: severity: message`, or `file: severity: message` when `line` is 0.
    public var description: String {
        let place = self.line > 0 ? "\(self.file):\(self.line)" : self.file
        return "\(place): \(self.severity.rawValue): \(self.message)"
    }
}

/// Thrown when an input has errors; carries all of them, so one run reports every problem.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    /// Every problem found, in the order found; never empty when thrown by APIGenCore.
    public let diagnostics: [Diagnostic]

    /// Wraps `diagnostics` to be thrown together.
    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One diagnostic per line, ready for stderr.
    public var description: String {
        self.diagnostics.map(\.description).joined(separator: "\n")
    }
}
