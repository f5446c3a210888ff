package auth

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestNegTokenInit(t *testing.T) {
	want := "6048" + "06062b0601050502" + "a03e303c" + "a00e300c060a2b06010401823702020a" +
		"a32a3028a0261b24" + hex.EncodeToString([]byte(negHintName))
	if got := hex.EncodeToString(NegTokenInit(DefaultConfig())); got != want {
		t.Fatalf("NegTokenInit =\n%s\nwant\n%s", got, want)
	}
}

// A Windows 10 negTokenInit (from a packet capture): NTLMSSP only, with an
// NTLM NEGOTIATE as mechToken.
const windowsNegTokenInit = "6048" + "06062b0601050502" + "a03e303c" +
	"a00e300c060a2b06010401823702020a" +
	"a22a04284e544c4d5353500001000000978208e2000000000000000000000000000000000a005a290000000f"

func TestParseNegTokenInit(t *testing.T) {
	b, _ := hex.DecodeString(windowsNegTokenInit)
	init, err := parseNegTokenInit(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(init.mechTypes) != 1 || !bytes.Equal(init.mechTypes[0], oidNTLMSSP) {
		t.Fatalf("mechTypes %x", init.mechTypes)
	}
	if hex.EncodeToString(init.mechTypesDER) != "300c060a2b06010401823702020a" {
		t.Fatalf("mechTypesDER %x", init.mechTypesDER)
	}
	flags, err := parseNegotiate(init.mechToken)
	if err != nil || flags != 0xe2088297 {
		t.Fatalf("NEGOTIATE flags %08x: %v", flags, err)
	}

	bad := []struct {
		name string
		hex  string
	}{
		{"not application 0", "30" + windowsNegTokenInit[2:]},
		{"wrong oid", "6048" + "06062b0601050503" + windowsNegTokenInit[20:]},
		{"length past end", "6049" + windowsNegTokenInit[4:]},
		{"truncated", windowsNegTokenInit[:len(windowsNegTokenInit)-2]},
		{"no mechTypes", "600e06062b0601050502a0043002a200"},
		{"fields out of order", "601806062b0601050502a00e300ca2020400a0063004060200ff"},
		{"five-byte length", "6085000000000a"},
	}
	for _, tt := range bad {
		b, _ := hex.DecodeString(tt.hex)
		if _, err := parseNegTokenInit(b); err == nil {
			t.Errorf("%s: parsed", tt.name)
		}
	}
}

func TestNegTokenRespRoundTrip(t *testing.T) {
	tests := []struct {
		state          int
		mech, tok, mic []byte
	}{
		{negStateAcceptIncomplete, oidNTLMSSP, bytes.Repeat([]byte{7}, 300), nil},
		{negStateAcceptCompleted, nil, nil, bytes.Repeat([]byte{1}, 16)},
		{-1, nil, bytes.Repeat([]byte{9}, 70000), nil},
	}
	for _, tt := range tests {
		b := encodeNegTokenResp(tt.state, tt.mech, tt.tok, tt.mic)
		r, err := parseNegTokenResp(b)
		if err != nil {
			t.Fatal(err)
		}
		if r.negState != tt.state || !bytes.Equal(r.supportedMech, tt.mech) ||
			!bytes.Equal(r.responseToken, tt.tok) || !bytes.Equal(r.mechListMIC, tt.mic) {
			t.Fatalf("round trip of state %d differs", tt.state)
		}
	}
}
