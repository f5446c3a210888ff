package auth

import (
	"encoding/hex"
	"testing"
)

// fuzzSeeds are valid tokens of every kind the server meets.
func fuzzSeeds(f *testing.F) {
	b, _ := hex.DecodeString(windowsNegTokenInit)
	f.Add(b)
	c := newTestClient("alice", "Secret-1", "WORKGROUP")
	f.Add(c.negotiate())
	f.Add(spnegoInit([][]byte{oidNTLMSSP}, c.negotiate()))
	s := NewSession(testConfig(f))
	chal, _, _ := s.Step(c.negotiate())
	amsg, _ := c.authenticate(chal)
	f.Add(amsg)
	f.Add(encodeNegTokenResp(negStateAcceptIncomplete, nil, amsg, make([]byte, 16)))
}

// FuzzStep feeds arbitrary tokens to a fresh Session and to one that has
// sent its CHALLENGE. Step must never panic and never succeed on garbage.
func FuzzStep(f *testing.F) {
	fuzzSeeds(f)
	cfg := testConfig(f)
	cfg.Logger = nil
	f.Fuzz(func(t *testing.T, in []byte) {
		s := NewSession(cfg)
		if _, done, err := s.Step(in); done || (err == nil && s.state != stateChallenged) {
			t.Fatalf("first Step: done %v err %v state %d", done, err, s.state)
		}
		for _, spnego := range []bool{false, true} {
			s := NewSession(cfg)
			c := newTestClient("alice", "Secret-1", "WORKGROUP")
			first := c.negotiate()
			if spnego {
				first = spnegoInit([][]byte{oidNTLMSSP}, first)
			}
			if _, _, err := s.Step(first); err != nil {
				t.Fatal(err)
			}
			_, done, err := s.Step(in)
			if done && err == nil && s.SessionKey() != nil {
				t.Fatalf("arbitrary token authenticated: %x", in)
			}
		}
	})
}

func FuzzParseNegTokenInit(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		init, err := parseNegTokenInit(in)
		if err != nil {
			return
		}
		if len(init.mechTypes) == 0 || len(init.mechTypesDER) > len(in) {
			t.Fatalf("accepted token without mechTypes or with oversized mechTypes")
		}
	})
}

func FuzzParseNegTokenResp(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := parseNegTokenResp(in)
		if err != nil {
			return
		}
		b := encodeNegTokenResp(r.negState, r.supportedMech, r.responseToken, r.mechListMIC)
		if _, err := parseNegTokenResp(b); err != nil {
			t.Fatalf("re-encoded token does not parse: %v", err)
		}
	})
}

func FuzzParseAuthenticate(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := parseAuthenticate(in)
		if err != nil {
			return
		}
		if len(a.ntResponse)+len(a.lmResponse) > 2*len(in) {
			t.Fatal("fields larger than the message")
		}
		if len(a.ntResponse) >= minNTLMv2Response {
			parseAVPairs(a.ntResponse[16+28:])
		}
	})
}
