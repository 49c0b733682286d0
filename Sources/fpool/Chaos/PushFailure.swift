// A push error as the report quotes it: which sender, which nonce, what fpool said.

struct PushFailure: Error, CustomStringConvertible {
    let sender: String
    let nonce: Int64
    let error: any Error

    var description: String { "\(self.sender) nonce \(self.nonce): \(self.error)" }
}
