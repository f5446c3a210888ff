package dcerpc

import (
	"encoding/binary"
	"testing"
)

var (
	syntaxSamr = syntaxID{uuid{0x12345778, 0x1234, 0xabcd, [8]byte{0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xac}}, 1}
	syntaxBTFN = func(features uint16) syntaxID {
		s := syntaxID{uuid: uuid{timeLow: btfnTimeLow, timeMid: btfnTimeMid, timeHi: btfnTimeHi}, version: 1}
		binary.LittleEndian.PutUint16(s.uuid.clockSeq[:2], features)
		return s
	}
)

func withVersion(s syntaxID, major, minor uint16) syntaxID {
	s.version = uint32(major) | uint32(minor)<<16
	return s
}

func TestBindContexts(t *testing.T) {
	accept := ctxResult{result: resultAcceptance, transfer: syntaxNDR32}
	tests := []struct {
		name string
		pipe string
		ctxs []presContext
		want []ctxResult
	}{
		{
			name: "windows: NDR32, NDR64, bind time features",
			pipe: "srvsvc",
			ctxs: []presContext{
				{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}},
				{id: 1, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR64}},
				{id: 2, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxBTFN(3)}},
			},
			want: []ctxResult{accept,
				{result: resultProviderRejection, reason: reasonTransferSyntaxes},
				{result: resultNegotiateAck, reason: featureKeepConnectionOnOrphan}},
		},
		{
			name: "NDR64 listed before NDR32 in one context",
			pipe: "srvsvc",
			ctxs: []presContext{{id: 5, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR64, syntaxNDR32}}},
			want: []ctxResult{accept},
		},
		{
			name: "unknown interface",
			pipe: "srvsvc",
			ctxs: []presContext{{id: 0, abstract: syntaxSamr, transfer: []syntaxID{syntaxNDR32}}},
			want: []ctxResult{{result: resultProviderRejection, reason: reasonAbstractSyntax}},
		},
		{
			name: "srvsvc on the wkssvc pipe",
			pipe: "wkssvc",
			ctxs: []presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}},
			want: []ctxResult{{result: resultProviderRejection, reason: reasonAbstractSyntax}},
		},
		{
			name: "wrong major version",
			pipe: "srvsvc",
			ctxs: []presContext{{id: 0, abstract: withVersion(syntaxSrvsvc, 2, 0), transfer: []syntaxID{syntaxNDR32}}},
			want: []ctxResult{{result: resultProviderRejection, reason: reasonAbstractSyntax}},
		},
		{
			name: "newer minor version",
			pipe: "srvsvc",
			ctxs: []presContext{{id: 0, abstract: withVersion(syntaxSrvsvc, 3, 1), transfer: []syntaxID{syntaxNDR32}}},
			want: []ctxResult{{result: resultProviderRejection, reason: reasonAbstractSyntax}},
		},
		{
			name: "NDR32 v1 is not NDR32 v2",
			pipe: "srvsvc",
			ctxs: []presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{withVersion(syntaxNDR32, 1, 0)}}},
			want: []ctxResult{{result: resultProviderRejection, reason: reasonTransferSyntaxes}},
		},
		{
			name: "wkssvc",
			pipe: `\PIPE\wkssvc`,
			ctxs: []presContext{{id: 0, abstract: syntaxWkssvc, transfer: []syntaxID{syntaxNDR32}}},
			want: []ctxResult{accept},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPipe(t, tt.pipe, sambaLikeBackend())
			r := parseServerPDU(t, roundTrip(t, p, buildBind(ptypeBind, 7, maxFragSize, tt.ctxs)))
			if r.h.ptype != ptypeBindAck || r.h.callID != 7 {
				t.Fatalf("got ptype %d call %d, want BIND_ACK for call 7", r.h.ptype, r.h.callID)
			}
			if r.secAddr != `\pipe\`+p.Name() {
				t.Errorf("secondary address %q", r.secAddr)
			}
			if len(r.results) != len(tt.want) {
				t.Fatalf("%d results, want %d", len(r.results), len(tt.want))
			}
			for i := range tt.want {
				if r.results[i] != tt.want[i] {
					t.Errorf("context %d: %+v, want %+v", i, r.results[i], tt.want[i])
				}
			}
		})
	}
}

func TestBindNak(t *testing.T) {
	good := buildBind(ptypeBind, 3, maxFragSize, []presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}})
	tests := []struct {
		name   string
		before [][]byte // PDUs sent first
		pdu    func() []byte
		want   uint16
	}{
		{"rpc_vers_minor 2", nil, func() []byte { b := clone(good); b[hdrOffVersMinor] = 2; return b }, nakProtocolVersionUnsupport},
		{"auth requested", nil, func() []byte {
			b := clone(good)
			b = append(b, 10, 2, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4) // sec_trailer (NTLMSSP, connect) + 4 bytes
			binary.LittleEndian.PutUint16(b[hdrOffAuthLength:], 4)
			return finishPDU(b, 0)
		}, nakAuthTypeNotRecognized},
		{"fragments too small", nil, func() []byte {
			return buildBind(ptypeBind, 3, 1024, []presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}})
		}, nakLocalLimitExceeded},
		{"context list truncated", nil, func() []byte { b := clone(good); b[bindOffNumCtx] = 2; return b }, nakReasonNotSpecified},
		{"no contexts", nil, func() []byte { return buildBind(ptypeBind, 3, maxFragSize, nil) }, nakReasonNotSpecified},
		{"no transfer syntax", nil, func() []byte { b := clone(good); b[bindOffCtxList+2] = 0; return b }, nakReasonNotSpecified},
		{"second bind", [][]byte{good}, func() []byte { return good }, nakReasonNotSpecified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPipe(t, "srvsvc", sambaLikeBackend())
			for _, b := range tt.before {
				roundTrip(t, p, b)
			}
			r := parseServerPDU(t, roundTrip(t, p, tt.pdu()))
			if r.h.ptype != ptypeBindNak || r.nak != tt.want || r.h.callID != 3 {
				t.Fatalf("got ptype %d reason %d call %d, want BIND_NAK reason %d", r.h.ptype, r.nak, r.h.callID, tt.want)
			}
		})
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func TestBindNegotiatesFragmentSize(t *testing.T) {
	tests := []struct {
		client uint16
		want   uint16
	}{{5840, maxFragSize}, {4280, 4280}, {2048, 2048}, {mustRecvFragSize, mustRecvFragSize}}
	for _, tt := range tests {
		p := newTestPipe(t, "srvsvc", sambaLikeBackend())
		ack := roundTrip(t, p, buildBind(ptypeBind, 1, tt.client, []presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}}))
		if got := binary.LittleEndian.Uint16(ack[bindOffMaxXmit:]); got != tt.want {
			t.Errorf("client %d: max_xmit_frag %d, want %d", tt.client, got, tt.want)
		}
		if got := binary.LittleEndian.Uint32(ack[bindOffAssocGroup:]); got == 0 {
			t.Errorf("client %d: assoc_group_id 0", tt.client)
		}
	}
}

func TestAlterContext(t *testing.T) {
	p := newTestPipe(t, "srvsvc", sambaLikeBackend())
	// Before BIND: a protocol error.
	r := parseServerPDU(t, roundTrip(t, p, buildBind(ptypeAlterContext, 1, maxFragSize,
		[]presContext{{id: 1, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}})))
	if r.h.ptype != ptypeFault || r.status != faultProtoError {
		t.Fatalf("ALTER_CONTEXT before BIND: ptype %d status %s", r.h.ptype, describeFault(r.status))
	}
	// BIND offering only NDR64: nothing usable yet.
	r = parseServerPDU(t, roundTrip(t, p, buildBind(ptypeBind, 2, maxFragSize,
		[]presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR64}}})))
	if r.h.ptype != ptypeBindAck || r.results[0].result != resultProviderRejection {
		t.Fatalf("NDR64-only BIND: %+v", r)
	}
	stub := serverGetInfoStub(101)
	r = parseServerPDU(t, roundTrip(t, p, buildRequest(3, 0, opNetrServerGetInfo, stub, 1024)[0]))
	if r.h.ptype != ptypeFault || r.status != faultUnknownIf || r.h.flags&pfcDidNotExecute == 0 {
		t.Fatalf("request on rejected context: ptype %d status %s flags %#x", r.h.ptype, describeFault(r.status), r.h.flags)
	}
	// ALTER_CONTEXT adds NDR32 as context 1.
	r = parseServerPDU(t, roundTrip(t, p, buildBind(ptypeAlterContext, 4, maxFragSize,
		[]presContext{{id: 1, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}})))
	if r.h.ptype != ptypeAlterContextResp || r.secAddr != "" || len(r.results) != 1 || r.results[0].result != resultAcceptance {
		t.Fatalf("ALTER_CONTEXT_RESP: %+v", r)
	}
	r = parseServerPDU(t, roundTrip(t, p, buildRequest(5, 1, opNetrServerGetInfo, stub, 1024)[0]))
	if r.h.ptype != ptypeResponse {
		t.Fatalf("request on altered context: ptype %d status %s", r.h.ptype, describeFault(r.status))
	}
}

// serverGetInfoStub is NetrServerGetInfo(NULL, level) in NDR32.
func serverGetInfoStub(level uint32) []byte {
	w := newNDRWriter(nil)
	w.pointer(false)
	w.uint32(level)
	return w.b
}
