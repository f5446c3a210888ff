package dcerpc

import (
	"errors"
	"strings"
	"testing"
)

// seedPDUs adds every client PDU of the captures, alone and after the
// capture's bind, to f.
func seedCaptures(f *testing.F, add func(pdu []byte)) {
	for name, pdu := range captures(f) {
		if strings.HasSuffix(name, ".c2s") {
			add(pdu)
		}
	}
}

// checkServerMessages reads every queued message and checks that each is
// a well-formed PDU a server may send.
func checkServerMessages(t *testing.T, p *Pipe) {
	t.Helper()
	for range 10000 {
		msg, err := p.Read(1 << 16)
		if errors.Is(err, ErrNoData) || errors.Is(err, ErrBroken) {
			return
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		h, err := parseHeader(msg)
		if err != nil {
			t.Fatalf("server sent a malformed PDU: %v", err)
		}
		switch h.ptype {
		case ptypeBindAck, ptypeBindNak, ptypeAlterContextResp, ptypeResponse, ptypeFault:
		default:
			t.Fatalf("server sent ptype %d", h.ptype)
		}
		if len(msg) > maxFragSize {
			t.Fatalf("server sent a %d-byte fragment", len(msg))
		}
	}
	t.Fatal("pipe never ran dry")
}

// FuzzPipeWrite feeds arbitrary bytes to a fresh pipe, then to a bound one,
// and reads everything back: no panic, and only well-formed PDUs out.
func FuzzPipeWrite(f *testing.F) {
	bind := captures(f)["smbclient-L.1.c2s"]
	seedCaptures(f, func(pdu []byte) {
		f.Add(pdu)
		f.Add(append(clone(bind), pdu...))
	})
	f.Add(buildBind(ptypeAlterContext, 3, maxFragSize, []presContext{{id: 1, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR64, syntaxNDR32}}}))
	for _, fr := range buildRequest(4, 0, opNetrShareEnum, make([]byte, 40), 16) {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, prebind := range []bool{false, true} {
			p, err := NewPipe("srvsvc", "alice", interopBackend())
			if err != nil {
				t.Fatal(err)
			}
			if prebind {
				if _, err := p.Write(bind); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := p.Write(data); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Write: %v", err)
			}
			checkServerMessages(t, p)
			p.Close()
		}
	})
}

// FuzzParseBind checks the BIND parser on its own.
func FuzzParseBind(f *testing.F) {
	seedCaptures(f, func(pdu []byte) { f.Add(pdu) })
	f.Fuzz(func(t *testing.T, pdu []byte) {
		h, err := parseHeader(pdu)
		if err != nil {
			return
		}
		b, err := parseBind(h, pdu)
		if err != nil {
			return
		}
		for _, c := range b.contexts {
			if len(c.transfer) == 0 {
				t.Fatalf("context %d accepted without transfer syntaxes", c.id)
			}
		}
	})
}

// FuzzNDRRequest feeds arbitrary stubs to every operation's decoder, in
// both byte orders: an error must wrap errNDR, and success must produce a
// stub ending in a WERROR.
func FuzzNDRRequest(f *testing.F) {
	for name, pdu := range captures(f) {
		if strings.HasSuffix(name, ".c2s") && pdu[hdrOffPtype] == ptypeRequest {
			f.Add(uint8(pdu[reqOffOpnum]), pdu[reqOffStub:])
		}
	}
	f.Add(uint8(opNetrShareEnum), shareGetInfoStub("x", 1))
	f.Add(uint8(opNetrShareGetInfo), shareGetInfoStub("data", 502))
	f.Add(uint8(opNetrServerGetInfo), serverGetInfoStub(102))
	ops := []struct {
		opnum uint16
		fn    opFunc
	}{
		{opNetrShareEnum, netrShareEnum},
		{opNetrShareGetInfo, netrShareGetInfo},
		{opNetrServerGetInfo, netrServerGetInfo},
		{opNetrWkstaGetInfo, netrWkstaGetInfo},
	}
	env := &callEnv{user: "alice", backend: interopBackend()}
	f.Fuzz(func(t *testing.T, which uint8, stub []byte) {
		op := ops[int(which)%len(ops)]
		for _, bigEndian := range []bool{false, true} {
			r := &ndrReader{b: stub, order: orderOf(bigEndian)}
			out, err := op.fn(env, r)
			if err != nil {
				if !errors.Is(err, errNDR) {
					t.Fatalf("opnum %d: error %v does not wrap errNDR", op.opnum, err)
				}
				continue
			}
			if len(out) < 8 || len(out)%4 != 0 {
				t.Fatalf("opnum %d: %d-byte answer", op.opnum, len(out))
			}
		}
	})
}
