// Errors and notes about an input file, printed the way compilers print them.

/// One problem (or note) at a place in an input file.
///
/// `description` is `file:line: error: message`, which SwiftPM and editors turn into a build
/// error pointing at the spec line.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case error, warning, note
    }

    public let file: String
    /// 1-based; 0 when the problem concerns the file as a whole.
    public let line: Int
    public let severity: Severity
    public let message: String

    public init(file: String, line: Int, severity: Severity = .error, message: String) {
        self.file = file
        self.line = line
        self.severity = severity
        self.message = message
    }

    public var description: String {
        let place = self.line > 0 ? "\(self.file):\(self.line)" : self.file
        return "\(place): \(self.severity.rawValue): \(self.message)"
    }
}

/// Thrown when an input has errors; carries all of them, so one run reports every problem.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        self.diagnostics.map(\.description).joined(separator: "\n")
    }
}
