// Whether a failed call may go to the next node: error class × route tags × effect.

import RouteModel

/// What to do after a node answered with an error or did not answer.
package enum RetryDecision: Sendable, Hashable {
    /// Send the same request to the next candidate node; `reason` is logged and counted.
    case retryElsewhere(reason: String)
    /// Give the client this node's answer.
    case returnAnswer
    /// The daemon refused only because it already has this exact message: the push succeeded.
    case treatAsSuccess
    /// A push whose reply was lost after it was sent: look its CID up before anything else.
    case resolveAmbiguousPush
}

/// The retry rules of PRODUCT.md §3.6: reads retry on network errors always and on lag-class
/// errors where the route's params make lag possible; pushes and writes are never re-sent once
/// they may have reached a node.
package enum RetryRule {
    /// What to do after a node failed a call of `route` with `error`. Pure: the caller carries the decision out.
    package static func decide(_ error: ErrorClass, route: RouteEntry) -> RetryDecision {
        switch error {
        case .network(.notSent):
            return .retryElsewhere(reason: "network: request never reached the node")
        case .network(.maybeSent), .network(.dropped):
            switch route.effect {
            case .read: return .retryElsewhere(reason: "network: no answer to an idempotent call")
            case .push: return .resolveAmbiguousPush
            case .write: return .returnAnswer
            }
        case .blockNotFound:
            guard route.effect == .read, route.retryTags.contains(.blockNotFound) else { return .returnAnswer }
            return .retryElsewhere(reason: "block not found: node behind on the chain")
        case .actorNotFound:
            guard route.effect == .read, route.retryTags.contains(.actorNotFound) else { return .returnAnswer }
            return .retryElsewhere(reason: "actor not found: node may not have synced the address")
        case .nonce(.alreadyInMpool):
            return route.effect == .push ? .treatAsSuccess : .returnAnswer
        case .nullRound, .nonce, .keyNotFound, .other:
            return .returnAnswer
        }
    }
}
