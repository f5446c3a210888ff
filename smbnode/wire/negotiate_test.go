package wire

import (
	"errors"
	"reflect"
	"testing"
)

// buildNegotiate builds a NEGOTIATE request by hand (MS-SMB2 2.2.3) with the
// given dialects and raw context list placed at ctxOff (0: right after the
// dialects, 8-aligned).
func buildNegotiate(dialects []uint16, ctxs [][]byte, ctxOff int) []byte {
	b := (&Header{Command: CommandNegotiate}).Append(nil)
	b = app16(b, 36)
	b = app16(b, uint16(len(dialects)))
	b = app16(b, SecurityModeSigningEnabled)
	b = app16(b, 0)
	b = app32(b, CapLeasing|CapLargeMTU)
	b = append(b, []byte("0123456789abcdef")...)
	offPos := len(b)
	b = app32(b, 0)
	b = app16(b, uint16(len(ctxs)))
	b = app16(b, 0)
	for _, d := range dialects {
		b = app16(b, d)
	}
	if len(ctxs) == 0 {
		return b
	}
	if ctxOff == 0 {
		ctxOff = align8(len(b))
	}
	for len(b) < ctxOff {
		b = append(b, 0)
	}
	putLE32(b, offPos, uint32(ctxOff))
	for i, c := range ctxs {
		if i > 0 {
			b = pad8(b, 0)
		}
		b = append(b, c...)
	}
	return b
}

func negCtx(typ uint16, data []byte) []byte {
	b := app16(nil, typ)
	b = app16(b, uint16(len(data)))
	b = app32(b, 0)
	return append(b, data...)
}

func preauthCtx() []byte {
	d := app16(nil, 1)
	d = app16(d, 4)
	d = app16(d, HashSHA512)
	return negCtx(NegCtxPreauthIntegrity, append(d, 1, 2, 3, 4))
}

func TestParseNegotiateRequest(t *testing.T) {
	enc := negCtx(NegCtxEncryption, appU16List(nil, []uint16{CipherAES128GCM, CipherAES256GCM}))
	sign := negCtx(NegCtxSigning, appU16List(nil, []uint16{SigningAESGMAC, SigningAESCMAC}))
	net := negCtx(NegCtxNetname, AppendUTF16(nil, "files.example"))
	odd := negCtx(0x77, []byte{1, 2, 3})
	r, err := ParseNegotiateRequest(buildNegotiate([]uint16{Dialect202, Dialect311}, [][]byte{preauthCtx(), odd, enc, sign, net}, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := NegotiateContexts{
		PreauthIntegrity: &PreauthIntegrityCapabilities{HashAlgorithms: []uint16{HashSHA512}, Salt: []byte{1, 2, 3, 4}},
		Encryption:       &EncryptionCapabilities{Ciphers: []uint16{CipherAES128GCM, CipherAES256GCM}},
		Signing:          &SigningCapabilities{Algorithms: []uint16{SigningAESGMAC, SigningAESCMAC}},
		NetName:          "files.example",
		Other:            []NegotiateContext{{Type: 0x77, Data: []byte{1, 2, 3}}},
	}
	if !reflect.DeepEqual(r.Contexts, want) {
		t.Errorf("contexts\n got %+v\nwant %+v", r.Contexts, want)
	}
	if r.ContextCount != 5 || !r.Has311() || string(r.ClientGUID[:]) != "0123456789abcdef" || r.Capabilities != CapLeasing|CapLargeMTU {
		t.Errorf("fields: %+v", r)
	}

	// Without 3.1.1 the context fields are ClientStartTime and are ignored.
	b := buildNegotiate([]uint16{Dialect202, Dialect300}, nil, 0)
	putLE32(b, negReqContextOffset, 0xFFFFFFFF)
	putLE16(b, negReqContextCount, 0xFFFF)
	if r, err := ParseNegotiateRequest(b); err != nil || r.ContextCount != 0 {
		t.Errorf("2.x request: %+v %v", r, err)
	}
}

func TestParseNegotiateRequestMalformed(t *testing.T) {
	pre := preauthCtx()
	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"no dialects", buildNegotiate(nil, nil, 0), ErrMalformed},
		{"dialects overrun", func() []byte {
			b := buildNegotiate([]uint16{Dialect202}, nil, 0)
			putLE16(b, negReqDialectCount, 3)
			return b
		}(), ErrMalformed},
		{"structure size", func() []byte {
			b := buildNegotiate([]uint16{Dialect202}, nil, 0)
			putLE16(b, HeaderSize, 37)
			return b
		}(), ErrStructureSize},
		{"short", buildNegotiate([]uint16{Dialect202}, nil, 0)[:HeaderSize+35], ErrShortBuffer},
		{"duplicate preauth", buildNegotiate([]uint16{Dialect311}, [][]byte{pre, pre}, 0), ErrMalformed},
		{"misaligned offset", buildNegotiate([]uint16{Dialect311}, [][]byte{pre}, 106), ErrMalformed},
		{"offset inside dialects", func() []byte {
			b := buildNegotiate([]uint16{Dialect311, Dialect202, Dialect210, Dialect300, Dialect302}, [][]byte{pre}, 0)
			putLE32(b, negReqContextOffset, 104)
			return b
		}(), ErrMalformed},
		{"offset past end", func() []byte {
			b := buildNegotiate([]uint16{Dialect311}, [][]byte{pre}, 0)
			putLE32(b, negReqContextOffset, 0x10000)
			return b
		}(), ErrMalformed},
		{"count too high", func() []byte {
			b := buildNegotiate([]uint16{Dialect311}, [][]byte{pre}, 0)
			putLE16(b, negReqContextCount, 2)
			return b
		}(), ErrMalformed},
		{"context data overrun", func() []byte {
			b := buildNegotiate([]uint16{Dialect311}, [][]byte{pre}, 0)
			putLE16(b, 104+2, 200)
			return b
		}(), ErrMalformed},
		{"salt overrun", buildNegotiate([]uint16{Dialect311}, [][]byte{negCtx(NegCtxPreauthIntegrity, []byte{1, 0, 9, 0, 1, 0})}, 0), ErrMalformed},
		{"cipher count overrun", buildNegotiate([]uint16{Dialect311}, [][]byte{pre, negCtx(NegCtxEncryption, []byte{5, 0, 1, 0})}, 0), ErrMalformed},
		{"odd netname", buildNegotiate([]uint16{Dialect311}, [][]byte{pre, negCtx(NegCtxNetname, []byte{'a'})}, 0), ErrInvalidUTF16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseNegotiateRequest(tc.msg); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestCapturedNegotiate311 checks the decoded contexts of smbclient's real
// 3.1.1 NEGOTIATE (first line of testdata/smbclient-samba.txt).
func TestCapturedNegotiate311(t *testing.T) {
	m := loadCapture(t, captureFiles[0])[0]
	r, err := ParseNegotiateRequest(m.msg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Dialects, []uint16{Dialect202, Dialect210, Dialect300, Dialect302, Dialect311}) {
		t.Errorf("dialects %x", r.Dialects)
	}
	p := r.Contexts.PreauthIntegrity
	if p == nil || !reflect.DeepEqual(p.HashAlgorithms, []uint16{HashSHA512}) || len(p.Salt) != 32 {
		t.Errorf("preauth %+v", p)
	}
	if r.Contexts.Encryption == nil || len(r.Contexts.Encryption.Ciphers) == 0 {
		t.Errorf("encryption %+v", r.Contexts.Encryption)
	}
	if r.Contexts.Signing == nil || len(r.Contexts.Signing.Algorithms) == 0 {
		t.Errorf("signing %+v", r.Contexts.Signing)
	}
	if r.Contexts.NetName != "127.0.0.1" {
		t.Errorf("netname %q", r.Contexts.NetName)
	}
	t.Logf("ciphers %x signing %x", r.Contexts.Encryption.Ciphers, r.Contexts.Signing.Algorithms)
}

func TestNegotiateResponseLayout(t *testing.T) {
	tf := uint32(1)
	r := &NegotiateResponse{
		DialectRevision: Dialect311, SecurityBuffer: []byte{1, 2, 3},
		Contexts: NegotiateContexts{
			PreauthIntegrity: &PreauthIntegrityCapabilities{HashAlgorithms: []uint16{HashSHA512}, Salt: make([]byte, 32)},
			Encryption:       &EncryptionCapabilities{Ciphers: []uint16{CipherAES128GCM}},
			Signing:          &SigningCapabilities{Algorithms: []uint16{SigningAESCMAC}},
			TransportFlags:   &tf,
		},
	}
	// Put the header after 4 bytes of transport framing: offsets must stay
	// relative to the header.
	pre := make([]byte, 4)
	msg := r.Append((&Header{Command: CommandNegotiate, Flags: FlagResponse}).Append(pre))[4:]
	if got := le16(msg, HeaderSize+6); got != 4 {
		t.Errorf("NegotiateContextCount %d", got)
	}
	off := le32(msg, HeaderSize+60)
	if off%8 != 0 || off < 0x80+3 {
		t.Fatalf("NegotiateContextOffset %d", off)
	}
	if so, sl := le16(msg, HeaderSize+56), le16(msg, HeaderSize+58); so != 0x80 || sl != 3 || msg[so] != 1 {
		t.Errorf("security buffer at %d len %d", so, sl)
	}
	c, err := parseNegotiateContexts(msg, int(off), 4, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, r.Contexts) {
		t.Errorf("contexts\n got %+v\nwant %+v", c, r.Contexts)
	}

	// 2.x: no contexts, count and offset zero.
	r.DialectRevision = Dialect210
	msg = r.Append((&Header{Flags: FlagResponse}).Append(nil))
	if le16(msg, HeaderSize+6) != 0 || le32(msg, HeaderSize+60) != 0 || len(msg) != 0x80+3 {
		t.Errorf("2.1 response: count %d offset %d len %d", le16(msg, HeaderSize+6), le32(msg, HeaderSize+60), len(msg))
	}
}
