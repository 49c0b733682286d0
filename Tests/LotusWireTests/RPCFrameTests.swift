// JSON-RPC frames and Lotus's protocol errors as go-jsonrpc spells them.

import LotusWire
import Testing

@Suite struct RPCFrameTests {
    @Test func classifiesRequestsNotificationsAndResponses() throws {
        #expect(
            try RPCFrame(JSON.parse(#"{"jsonrpc":"2.0","id":2,"method":"Filecoin.ChainNotify","params":[]}"#))
                == .request(id: 2, method: "Filecoin.ChainNotify", params: []))
        #expect(
            try RPCFrame(JSON.parse(#"{"jsonrpc":"2.0","method":"xrpc.cancel","params":[2]}"#))
                == .notification(method: "xrpc.cancel", params: [2]))
        #expect(
            try RPCFrame(JSON.parse(#"{"jsonrpc":"2.0","id":6,"error":{"code":1,"message":"boom"}}"#))
                == .response(id: 6, result: nil, error: RPCError(code: 1, message: "boom")))
        #expect(throws: RPCError.self) { try RPCFrame(JSON.parse(#"{"jsonrpc":"2.0","id":1,"method":"x","params":{}}"#)) }
    }

    @Test func framesHaveIntegerIdsAndCodes() {
        #expect(
            RPCFrames.error(id: 7, .methodNotFound("Filecoin.Foo")).description
                == #"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"method 'Filecoin.Foo' not found"}}"#)
        #expect(RPCFrames.channelValue(channel: 1, ["x"]).description == #"{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,["x"]]}"#)
        #expect(RPCFrames.channelClose(channel: 3).description == #"{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[3]}"#)
    }

    @Test func protocolErrorTexts() {
        #expect(
            RPCError.wrongParamCount("Filecoin.ChainHead", got: 1, want: 0).message
                == "wrong param count (method 'Filecoin.ChainHead'): 1 != 0")
        #expect(
            RPCError.noChannelSupport("Filecoin.ChainNotify").message
                == "method 'Filecoin.ChainNotify' not supported in this mode (no out channel support)")
        #expect(RPCError.tooBig(limit: 104_857_600).message == "request bigger than maximum 104857600 allowed")
    }
}
