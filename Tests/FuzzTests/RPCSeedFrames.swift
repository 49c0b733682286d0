// Real JSON-RPC frames as Lotus clients and daemons send them: the corpus the JSON, frame and
// WebSocket targets start from, and the grammar pieces their mutations insert.

enum RPCSeedFrames {
    static let frames: [String] = [
        #"{"jsonrpc":"2.0","id":1,"method":"Filecoin.ChainHead","params":[]}"#,
        #"{"jsonrpc":"2.0","id":2,"method":"Filecoin.StateGetActor","params":["f01000",[{"/":"bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3uy6uue42v4"}]],"meta":{"SpanContext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}"#,
        #"{"jsonrpc":"2.0","id":3,"method":"Filecoin.MpoolPush","params":[{"Message":{"Version":0,"To":"f01234","From":"f3vvmn62lofvhjd2ugzca6sof2j2ubwok6cj4xxbfzz4yuxfkgobpihhd2thlanmsh3w2ptld2gqkn2jvlss4a","Nonce":42,"Value":"1000000000000000000","GasLimit":25000000,"GasFeeCap":"100000","GasPremium":"99000","Method":0,"Params":null},"Signature":{"Type":2,"Data":"qzBV4Zm1bMBVTmNgAmNgEU6BVT/ZnOfHiXH4/uHBKz+Z8u3TXS8Y0lzZJQkH0bFbGRKmJUCh1X+jq9q8KD5KAhhcR7vrdLU5T9RAJUxLbRsAvqJNrt5Xy5ej9xY6T5Yg"}}]}"#,
        #"{"jsonrpc":"2.0","result":{"Cids":[{"/":"bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2"}],"Blocks":[{"Miner":"f01000","Ticket":{"VRFProof":"kfggWR2GcEbfTuJ20hkQY9F4yW8/+GdAtHdqQy5LFmrvgxOqYAgLIvm2Y1eLO+9bEZi4PEDGWUpwXTVeHbtj6Q=="},"Height":3172113,"ParentBaseFee":"100","Timestamp":1700000000,"BlockSig":null}],"Height":3172113},"id":1}"#,
        #"{"jsonrpc":"2.0","id":4,"error":{"code":1,"message":"resolution lookup failed (f01234): actor not found"}}"#,
        #"{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[7,[{"Type":"current","Val":{"Height":10,"Cids":[]}}]]}"#,
        #"{"jsonrpc":"2.0","method":"xrpc.cancel","params":[5]}"#,
        #"{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[7]}"#,
        #"{"jsonrpc":"2.0","id":6,"method":"Filecoin.ChainNotify","params":[]}"#,
        #"{"jsonrpc":"2.0","id":"abc","method":"Filecoin.Chain\u0048ead","params":["a\"b\\c\n\u00e9\ud83d\ude00\/\b\f\r\t"]}"#,
        #"{"id":-9223372036854775807,"params":[0,-0,1.5e+300,-2.5E-3,12345678901234567890,null,true,false,1e400]}"#,
        #"{"jsonrpc":"2.0","id":9,"result":null}"#,
        #"{"id":13,"jsonrpc":"2.0","result":{"Cids":[{"/":"bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2"}],"Height":3172113}}"#
            + "\n",
        #"{"error":{"code":1,"message":"actor not found"},"id":14,"jsonrpc":"2.0"}"# + "\n",
        #"{"jsonrpc":"2.0","id":10,"method":"Filecoin.WalletBalance","params":["f1abcdefghijklmnopqrstuvwxyz234567"]}"#,
        #"{"jsonrpc":"2.0","id":11,"method":"Filecoin.StateWaitMsg","params":[{"/":"bafy2bzacebz"},5,900,true]}"#,
        #"{"\u0069d":7,"m\u0065thod":"Filecoin.ChainHead","id":8,"id\u0000":9,"params":null}"#,
        #" { "id" : 12 , "method" : "Filecoin.Version" , "params" : [ ] } "#,
    ]

    /// Documents that are not frames, for the JSON target.
    static let documents: [String] = [
        "[]", "{}", #""x""#, "0", "[1,2]", #"{"a":1,"b":[2]}"#, "-1.5e-7", "true", "null", "[[[[1]]]]",
        #"{"a":{"b":{"c":[1,{"d":null}]}}}"#,
        #"["\u0000\u001f\ud800\udc00\uDBFF\uDFFF"]"#,
    ]

    /// JSON grammar and the frame's own keys.
    static let jsonTokens: [[UInt8]] =
        [
            #"""#, #"\"#, #"\u"#, #"\u00e9"#, #"\ud83d\ude00"#, #"\ud800"#, #"\udc00"#, "true", "false", "null", "[", "]", "{", "}", ",",
            ":",
            "[]", "{}", #""""#, "0", "-0", "1e", "1.", ".5", "-", "+", "E+10", "1e400", "9223372036854775807", "-9223372036854775808",
            "18446744073709551616", " ", "\t", "\n", "\r", #""a":"#, #","id":"#, #""method":"#, #""params":"#, #""result":"#,
            #""error":"#, #""id":null"#, #""method":1"#, #""\u0069d""#, #""m\u0065thod""#, #""id\u0000""#, #""code":"#,
            #""message":"#, "\"Filecoin.ChainHead\"",
        ].map { Array($0.utf8) } + [
            [0x00], [0xC3, 0xA9], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98, 0x80], [0xEF, 0xBB, 0xBF], [0xC0, 0xAF],
        ]

    static let jsonDelimiters: [UInt8] = Array(",:[]{}".utf8)

    static let jsonNesting: [(open: [UInt8], close: [UInt8])] = [
        (Array("[".utf8), Array("]".utf8)), (Array(#"{"k":"#.utf8), Array("}".utf8)), (Array("[1,".utf8), Array("]".utf8)),
    ]
}
