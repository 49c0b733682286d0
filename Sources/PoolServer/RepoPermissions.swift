// The permission check fpool makes before it serves with a repo's secret: like Lotus, which
// refuses key files looser than 0600, it will not sign with a secret others could read or replace.

import Foundation

/// Refuses a repo directory or secret that group or others may read or write.
enum RepoPermissions {
    /// Bits that let group or others read or write.
    static let openToOthers: mode_t = 0o066

    /// - Throws: `RepoError` naming the directory and `chmod 700` when it is open to others:
    ///   whoever can write there can replace the secret, whoever can list it learns the files.
    static func check(directory: String) throws(RepoError) {
        try self.check(directory, fix: 0o700, what: "the repo directory")
    }

    /// - Throws: `RepoError` naming the secret and `chmod 600` when it is open to others:
    ///   whoever can read it can forge any token, admin included.
    static func check(secret: String) throws(RepoError) {
        try self.check(secret, fix: 0o600, what: "the JWT secret")
    }

    private static func check(_ path: String, fix: mode_t, what: String) throws(RepoError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw RepoError(file: path, reason: "cannot read its permissions: \(String(cString: strerror(errno)))")
        }
        let mode = info.st_mode & 0o777
        guard mode & self.openToOthers != 0 else { return }
        throw RepoError(
            file: path,
            reason:
                "\(what) is readable or writable by group or others (mode \(Self.octal(mode))); fpool refuses to serve with it, "
                + "as Lotus refuses key files looser than 0600. Fix: chmod \(Self.octal(fix, digits: 3)) \(path)")
    }

    /// `0o644` → `0644` (or `644` with 3 digits, as chmod takes it).
    static func octal(_ mode: mode_t, digits: Int = 4) -> String {
        let text = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
