package dcerpc

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
)

// testBackend is a fixed Backend: every user sees shares, except that a
// user named in hidden sees none of them.
type testBackend struct {
	shares []Share
	server ServerInfo

	mu    sync.Mutex
	users []string // every user Shares was asked about
}

func (b *testBackend) Shares(user string) []Share {
	b.mu.Lock()
	b.users = append(b.users, user)
	b.mu.Unlock()
	return b.shares
}

func (b *testBackend) Server() ServerInfo { return b.server }

// sambaLikeBackend describes the Samba the captures in testdata were taken
// from, so Shoal's answers can be compared with Samba's.
func sambaLikeBackend() *testBackend {
	return &testBackend{
		shares: []Share{
			{Name: "data", Path: "/tmp/srvsvc-samba/share", Type: ShareTypeDiskTree},
			{Name: "IPC$", Comment: "IPC Service (Samba 4.17.12-Debian)", Path: "/tmp", Type: ShareTypeIPCHidden},
		},
		server: ServerInfo{Name: "TORTURE", Comment: "Samba 4.17.12-Debian", Domain: "WORKGROUP", VersionMajor: 6, VersionMinor: 1},
	}
}

// captures reads testdata/captures.txt: name -> PDU bytes.
func captures(t testing.TB) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/captures.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := make(map[string][]byte)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hx, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad capture line %q", line)
		}
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatalf("capture %s: %v", name, err)
		}
		m[name] = b
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newTestPipe(t testing.TB, name string, b Backend) *Pipe {
	t.Helper()
	p, err := NewPipe(name, "alice", b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// roundTrip writes one PDU and reads one complete response message.
func roundTrip(t testing.TB, p *Pipe, pdu []byte) []byte {
	t.Helper()
	out, more, err := p.Transceive(pdu, 65536)
	if err != nil {
		t.Fatalf("Transceive: %v", err)
	}
	if more {
		t.Fatalf("Transceive: response larger than 64 KiB")
	}
	return out
}

// bindPDU builds a BIND (or ALTER_CONTEXT) little-endian PDU.
func buildBind(ptype uint8, callID uint32, maxFrag uint16, ctxs []presContext) []byte {
	b := appendHeader(nil, ptype, pfcFirstFrag|pfcLastFrag, callID)
	b = binary.LittleEndian.AppendUint16(b, maxFrag)
	b = binary.LittleEndian.AppendUint16(b, maxFrag)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(b, uint8(len(ctxs)), 0, 0, 0)
	for _, c := range ctxs {
		b = binary.LittleEndian.AppendUint16(b, c.id)
		b = append(b, uint8(len(c.transfer)), 0)
		b = appendSyntaxID(b, c.abstract)
		for _, ts := range c.transfer {
			b = appendSyntaxID(b, ts)
		}
	}
	return finishPDU(b, 0)
}

// buildRequest builds REQUEST fragments carrying stub, fragSize stub bytes each.
func buildRequest(callID uint32, ctxID, opnum uint16, stub []byte, fragStub int) [][]byte {
	var pdus [][]byte
	first := true
	for {
		n := min(len(stub), fragStub)
		var flags uint8
		if first {
			flags |= pfcFirstFrag
		}
		if n == len(stub) {
			flags |= pfcLastFrag
		}
		b := appendHeader(nil, ptypeRequest, flags, callID)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(stub)))
		b = binary.LittleEndian.AppendUint16(b, ctxID)
		b = binary.LittleEndian.AppendUint16(b, opnum)
		b = append(b, stub[:n]...)
		pdus = append(pdus, finishPDU(b, 0))
		if n == len(stub) {
			return pdus
		}
		stub = stub[n:]
		first = false
	}
}

// parsedResponse is a server PDU as the tests look at it.
type parsedResponse struct {
	h       header
	stub    []byte      // RESPONSE
	status  uint32      // FAULT
	results []ctxResult // BIND_ACK, ALTER_CONTEXT_RESP
	secAddr string
	nak     uint16 // BIND_NAK reason
}

func parseServerPDU(t testing.TB, pdu []byte) parsedResponse {
	t.Helper()
	h, err := parseHeader(pdu)
	if err != nil {
		t.Fatalf("server PDU: %v", err)
	}
	r := parsedResponse{h: h}
	le := binary.LittleEndian
	switch h.ptype {
	case ptypeResponse:
		if len(pdu) < respOffStub {
			t.Fatalf("short RESPONSE %x", pdu)
		}
		r.stub = pdu[respOffStub:]
		if hint := le.Uint32(pdu[16:]); int(hint) < len(r.stub) {
			t.Errorf("alloc_hint %d < stub %d", hint, len(r.stub))
		}
	case ptypeFault:
		if len(pdu) != 32 {
			t.Fatalf("FAULT of %d bytes", len(pdu))
		}
		r.status = le.Uint32(pdu[24:])
	case ptypeBindAck, ptypeAlterContextResp:
		n := int(le.Uint16(pdu[24:]))
		off := 26 + n
		if n > 0 {
			r.secAddr = string(pdu[26 : 26+n-1])
		}
		off = (off + 3) &^ 3
		cnt := int(pdu[off])
		off += 4
		for range cnt {
			s, _ := parseSyntaxID(pdu[off+4:], le)
			r.results = append(r.results, ctxResult{le.Uint16(pdu[off:]), le.Uint16(pdu[off+2:]), s})
			off += 24
		}
		if off != len(pdu) {
			t.Fatalf("BIND_ACK: %d results end at %d, PDU has %d bytes", cnt, off, len(pdu))
		}
	case ptypeBindNak:
		r.nak = le.Uint16(pdu[16:])
	default:
		t.Fatalf("unexpected server ptype %d", h.ptype)
	}
	return r
}

// sameModuloReferents compares two NDR stubs, treating any two aligned
// words that both look like referent ids (0x0002xxxx) as equal: Samba and
// Shoal number their pointers differently.
func sameModuloReferents(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i += 4 {
		j := min(i+4, len(a))
		wa, wb := a[i:j], b[i:j]
		if string(wa) == string(wb) {
			continue
		}
		if len(wa) == 4 && wa[2] == 2 && wa[3] == 0 && wb[2] == 2 && wb[3] == 0 {
			continue
		}
		return false
	}
	return true
}

func orderOf(bigEndian bool) binary.ByteOrder {
	if bigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}
