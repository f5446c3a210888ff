package dcerpc

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"
)

// TestCaptures replays the exact PDUs smbclient, rpcclient and
// python3-samba sent to Samba (testdata/captures.txt) and compares the
// answers with Samba's.
func TestCaptures(t *testing.T) {
	caps := captures(t)
	tests := []struct {
		capture string
		pipe    string
		calls   int
		// identical lists the calls whose response stub must equal Samba's
		// byte for byte (referent ids aside); the others differ on purpose
		// (server type bits, current_uses, passwd) and are checked by the
		// python3-samba test.
		identical map[int]bool
	}{
		{"smbclient-L", "srvsvc", 2, map[int]bool{2: true}},
		{"pysamba", "srvsvc", 3, nil},
		{"unknown-if", "srvsvc", 1, nil},
		{"faults", "srvsvc", 3, nil},
		{"rpcclient", "", 9, map[int]bool{4: true, 6: true, 7: true, 9: true}},
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			var p *Pipe
			for i := 1; i <= tt.calls; i++ {
				req := caps[fmt.Sprintf("%s.%d.c2s", tt.capture, i)]
				want := caps[fmt.Sprintf("%s.%d.s2c", tt.capture, i)]
				if req == nil || want == nil {
					t.Fatalf("capture %s.%d missing", tt.capture, i)
				}
				if req[2] == ptypeBind {
					name := tt.pipe
					if name == "" {
						b, err := parseBind(header{drep: [4]byte{0x10}}, req)
						if err != nil {
							t.Fatal(err)
						}
						name = "srvsvc"
						if b.contexts[0].abstract == syntaxWkssvc {
							name = "wkssvc"
						}
					}
					p = newTestPipe(t, name, sambaLikeBackend())
				}
				got := roundTrip(t, p, req)
				g, w := parseServerPDU(t, got), parseServerPDU(t, want)
				if g.h.ptype != w.h.ptype || g.h.callID != w.h.callID || g.h.flags != w.h.flags {
					t.Fatalf("call %d: got ptype %d call %d flags %#x, Samba ptype %d call %d flags %#x",
						i, g.h.ptype, g.h.callID, g.h.flags, w.h.ptype, w.h.callID, w.h.flags)
				}
				switch g.h.ptype {
				case ptypeBindAck:
					checkBindAck(t, g, w)
				case ptypeFault:
					if !bytes.Equal(got, want) {
						t.Errorf("call %d: FAULT\n got %x\nwant %x", i, got, want)
					}
				case ptypeResponse:
					if tt.identical[i] && !sameModuloReferents(g.stub, w.stub) {
						t.Errorf("call %d stub differs from Samba's\n got %s\nwant %s", i, hex.EncodeToString(g.stub), hex.EncodeToString(w.stub))
					}
				}
			}
		})
	}
}

// checkBindAck compares a BIND_ACK with Samba's. The one intended
// difference: bind time feature negotiation acknowledges only
// keep-connection-on-orphan (Samba also claims security context
// multiplexing, which a server without security contexts cannot mean).
func checkBindAck(t *testing.T, g, w parsedResponse) {
	t.Helper()
	if g.secAddr != w.secAddr {
		t.Errorf("secondary address %q, Samba %q", g.secAddr, w.secAddr)
	}
	if len(g.results) != len(w.results) {
		t.Fatalf("%d context results, Samba %d", len(g.results), len(w.results))
	}
	for i := range g.results {
		gr, wr := g.results[i], w.results[i]
		if wr.result == resultNegotiateAck {
			wr.reason &= supportedFeatures
		}
		if gr != wr {
			t.Errorf("context %d: result %+v, Samba %+v", i, gr, wr)
		}
	}
}
