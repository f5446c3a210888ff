package dcerpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// boundPipe returns a srvsvc pipe with NDR32 bound as context 0.
func boundPipe(t *testing.T, b Backend, frag uint16) *Pipe {
	t.Helper()
	p := newTestPipe(t, "srvsvc", b)
	r := parseServerPDU(t, roundTrip(t, p, buildBind(ptypeBind, 1, frag,
		[]presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}})))
	if r.h.ptype != ptypeBindAck || r.results[0].result != resultAcceptance {
		t.Fatalf("bind: %+v", r)
	}
	return p
}

// shareGetInfoStub is NetrShareGetInfo(NULL, name, level) in NDR32.
func shareGetInfoStub(name string, level uint32) []byte {
	w := newNDRWriter(nil)
	w.pointer(false)
	w.string(name)
	w.uint32(level)
	return w.b
}

func TestRequestFaults(t *testing.T) {
	getInfo := shareGetInfoStub("data", 1)
	withAuth := func() []byte {
		b := buildRequest(9, 0, opNetrShareGetInfo, getInfo, 1024)[0]
		b = append(b, 10, 2, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4)
		binary.LittleEndian.PutUint16(b[hdrOffAuthLength:], 4)
		return finishPDU(b, 0)
	}
	lyingString := func() []byte {
		s := clone(getInfo)
		binary.LittleEndian.PutUint32(s[12:], 1000) // NetName actual_count > max_count
		return s
	}
	badDiscriminant := func() []byte {
		w := newNDRWriter(nil)
		w.pointer(false)
		w.uint32(1) // level
		w.uint32(2) // discriminant
		return w.b
	}
	tests := []struct {
		name          string
		pdus          [][]byte
		want          uint32
		didNotExecute bool
	}{
		{"unknown opnum", buildRequest(9, 0, 99, getInfo, 1024), faultOpRngError, true},
		{"unimplemented opnum", buildRequest(9, 0, 14, getInfo, 1024), faultOpRngError, true},
		{"unknown context", buildRequest(9, 4, opNetrShareGetInfo, getInfo, 1024), faultUnknownIf, true},
		{"truncated stub", buildRequest(9, 0, opNetrShareGetInfo, getInfo[:len(getInfo)-2], 1024), faultNDR, false},
		{"empty stub", buildRequest(9, 0, opNetrShareEnum, nil, 1024), faultNDR, false},
		{"string count lies", buildRequest(9, 0, opNetrShareGetInfo, lyingString(), 1024), faultNDR, false},
		{"union discriminant differs", buildRequest(9, 0, opNetrShareEnum, badDiscriminant(), 1024), faultNDR, false},
		{"middle fragment first", buildRequest(9, 0, opNetrShareGetInfo, getInfo, 8)[1:2], faultProtoError, true},
		{"fragment of another call", [][]byte{
			buildRequest(9, 0, opNetrShareGetInfo, getInfo, 8)[0],
			buildRequest(10, 0, opNetrShareGetInfo, getInfo, 8)[1],
		}, faultProtoError, true},
		{"verifier without security context", [][]byte{withAuth()}, faultAccessDenied, true},
		{"request too large", buildRequest(9, 0, opNetrShareGetInfo, make([]byte, maxRequestStub+8), 4000), faultProtoError, true},
		{"client sends a RESPONSE", [][]byte{func() []byte {
			b := buildRequest(9, 0, 0, getInfo, 1024)[0]
			b[hdrOffPtype] = ptypeResponse
			return b
		}()}, faultProtoError, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := boundPipe(t, sambaLikeBackend(), maxFragSize)
			for _, pdu := range tt.pdus {
				if _, err := p.Write(pdu); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			msg, err := p.Read(maxFragSize)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			r := parseServerPDU(t, msg)
			if r.h.ptype != ptypeFault || r.status != tt.want {
				t.Fatalf("got ptype %d status %s, want FAULT %s", r.h.ptype, describeFault(r.status), describeFault(tt.want))
			}
			if got := r.h.flags&pfcDidNotExecute != 0; got != tt.didNotExecute {
				t.Errorf("did_not_execute %v, want %v", got, tt.didNotExecute)
			}
			// A fragment of another call also ends the half-sent one.
			faults := 1
			if tt.name == "fragment of another call" {
				faults = 2
			}
			for i := 1; i < faults; i++ {
				if r := parseServerPDU(t, mustRead(t, p)); r.h.ptype != ptypeFault || r.status != tt.want {
					t.Fatalf("answer %d: ptype %d status %s", i+1, r.h.ptype, describeFault(r.status))
				}
			}
			if _, err := p.Read(maxFragSize); !errors.Is(err, ErrNoData) {
				t.Errorf("second Read: %v, want ErrNoData", err)
			}
			// The pipe still works.
			r = parseServerPDU(t, roundTrip(t, p, buildRequest(20, 0, opNetrShareGetInfo, getInfo, 1024)[0]))
			if r.h.ptype != ptypeResponse || r.h.callID != 20 {
				t.Fatalf("after fault: ptype %d call %d", r.h.ptype, r.h.callID)
			}
		})
	}
}

func TestRequestBeforeBind(t *testing.T) {
	p := newTestPipe(t, "srvsvc", sambaLikeBackend())
	r := parseServerPDU(t, roundTrip(t, p, buildRequest(1, 0, opNetrShareGetInfo, shareGetInfoStub("data", 1), 1024)[0]))
	if r.h.ptype != ptypeFault || r.status != faultProtoError {
		t.Fatalf("got ptype %d status %s", r.h.ptype, describeFault(r.status))
	}
}

func TestRequestObjectUUID(t *testing.T) {
	p := boundPipe(t, sambaLikeBackend(), maxFragSize)
	plain := roundTrip(t, p, buildRequest(2, 0, opNetrShareGetInfo, shareGetInfoStub("IPC$", 1), 1024)[0])
	b := buildRequest(3, 0, opNetrShareGetInfo, nil, 1024)[0]
	b[hdrOffFlags] |= pfcObjectUUID
	b = append(b, bytes.Repeat([]byte{0xab}, objectUUIDLen)...)
	b = finishPDU(append(b, shareGetInfoStub("IPC$", 1)...), 0)
	withObj := roundTrip(t, p, b)
	g, w := parseServerPDU(t, withObj), parseServerPDU(t, plain)
	if g.h.ptype != ptypeResponse || !bytes.Equal(g.stub, w.stub) {
		t.Fatalf("with object UUID: ptype %d stub %x, want %x", g.h.ptype, g.stub, w.stub)
	}
}

func TestOrphanedDropsCall(t *testing.T) {
	p := boundPipe(t, sambaLikeBackend(), maxFragSize)
	frags := buildRequest(5, 0, opNetrShareGetInfo, shareGetInfoStub("data", 1), 8)
	if _, err := p.Write(frags[0]); err != nil {
		t.Fatal(err)
	}
	orphan := appendHeader(nil, ptypeOrphaned, pfcFirstFrag|pfcLastFrag, 5)
	if _, err := p.Write(finishPDU(orphan, 0)); err != nil {
		t.Fatal(err)
	}
	for _, f := range frags[1:] {
		if _, err := p.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	// The rest of the orphaned call has no start: one proto error fault.
	r := parseServerPDU(t, mustRead(t, p))
	if r.h.ptype != ptypeFault || r.status != faultProtoError {
		t.Fatalf("got ptype %d status %s", r.h.ptype, describeFault(r.status))
	}
}

func mustRead(t *testing.T, p *Pipe) []byte {
	t.Helper()
	b, err := p.Read(65536)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return b
}

// TestResponseFragments checks that a large answer is cut into fragments
// of at most the negotiated size whose stubs reassemble to the same stub
// whatever the size.
func TestResponseFragments(t *testing.T) {
	w := newNDRWriter(nil)
	w.pointer(false)
	w.uint32(2) // level
	w.uint32(2) // discriminant
	w.pointer(true)
	w.uint32(0) // EntriesRead
	w.pointer(false)
	w.uint32(0xffffffff)
	w.pointer(false)
	var first []byte
	for _, frag := range []uint16{maxFragSize, 2048, mustRecvFragSize} {
		p := boundPipe(t, interopBackend(), frag)
		for _, f := range buildRequest(2, 0, opNetrShareEnum, w.b, 4000) {
			if _, err := p.Write(f); err != nil {
				t.Fatal(err)
			}
		}
		var stub []byte
		n := 0
		for {
			msg := mustRead(t, p)
			n++
			if len(msg) > int(frag) {
				t.Fatalf("frag %d: fragment of %d bytes", frag, len(msg))
			}
			r := parseServerPDU(t, msg)
			if r.h.ptype != ptypeResponse {
				t.Fatalf("frag %d: ptype %d", frag, r.h.ptype)
			}
			stub = append(stub, r.stub...)
			if r.h.flags&pfcLastFrag != 0 {
				break
			}
		}
		if n < 2 {
			t.Fatalf("frag %d: answer fits one fragment; test backend too small", frag)
		}
		if first == nil {
			first = stub
		} else if !bytes.Equal(stub, first) {
			t.Fatalf("frag %d: reassembled stub differs from the one in %d-byte fragments", frag, maxFragSize)
		}
	}
}
