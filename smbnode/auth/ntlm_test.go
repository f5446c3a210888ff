package auth

import (
	"bytes"
	"crypto/rc4"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNTHash(t *testing.T) {
	tests := []struct{ password, want string }{
		{"Password", "a4f49c406510bdcab6824ee7c30fd852"}, // MS-NLMP 4.2.2.1.2
		{"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
	}
	for _, tt := range tests {
		got := NTHash(tt.password)
		if hex.EncodeToString(got[:]) != tt.want {
			t.Errorf("NTHash(%q) = %x, want %s", tt.password, got, tt.want)
		}
	}
}

// TestNLMPv2Example checks the NTLMv2 computations against MS-NLMP 4.2.4:
// user "User", domain "Domain", password "Password", server challenge
// 0123456789abcdef, client challenge aa*8, time 0, random session key 55*16,
// AV pairs NbDomainName "Domain" and NbComputerName "Server".
func TestNLMPv2Example(t *testing.T) {
	key := ntowfv2(NTHash("Password"), "User", "Domain")
	if want := unhex(t, "0c868a403bfd7a93a3001ef22ef02e3f"); !bytes.Equal(key, want) {
		t.Fatalf("NTOWFv2 = %x, want %x", key, want)
	}
	var pairs []byte
	pairs = avPair(pairs, avNbDomainName, utf16le("Domain"))
	pairs = avPair(pairs, avNbComputerName, utf16le("Server"))
	pairs = avPair(pairs, avEOL, nil)
	blob := []byte{1, 1, 0, 0, 0, 0, 0, 0}
	blob = append(blob, make([]byte, 8)...)               // time 0
	blob = append(blob, bytes.Repeat([]byte{0xaa}, 8)...) // client challenge
	blob = append(blob, 0, 0, 0, 0)                       // reserved
	blob = append(blob, pairs...)
	blob = append(blob, 0, 0, 0, 0)
	serverChallenge := unhex(t, "0123456789abcdef")

	proof := hmacMD5(key, serverChallenge, blob)
	if want := unhex(t, "68cd0ab851e51c96aabc927bebef6a1c"); !bytes.Equal(proof, want) {
		t.Fatalf("NTProofStr = %x, want %x", proof, want)
	}
	sbk := hmacMD5(key, proof)
	if want := unhex(t, "8de40ccadbc14a82f15cb0ad0de95ca3"); !bytes.Equal(sbk, want) {
		t.Fatalf("SessionBaseKey = %x, want %x", sbk, want)
	}
	c, _ := rc4.NewCipher(sbk)
	enc := make([]byte, 16)
	c.XORKeyStream(enc, bytes.Repeat([]byte{0x55}, 16))
	if want := unhex(t, "c5dad2544fc9799094ce1ce90bc9d03e"); !bytes.Equal(enc, want) {
		t.Fatalf("EncryptedRandomSessionKey = %x, want %x", enc, want)
	}

	// The server side must recover the random session key from it.
	s := NewSession(Config{NetBIOSName: "SERVER", NetBIOSDomain: "DOMAIN", Users: mapUsers{"User": "Password"}})
	copy(s.challenge[:], serverChallenge)
	s.chalFlags = 0xe28a8233
	s.state = stateChallenged
	nt := append(append([]byte{}, proof...), blob...)
	cl := newTestClient("User", "Password", "Domain")
	cl.ntResponse = nt
	cl.noMIC = true
	cl.flags = 0xe28a8233
	chal := buildChallenge(0xe28a8233, [8]byte(serverChallenge), utf16le("Server"), pairs)
	copy(cl.randomKey[:], bytes.Repeat([]byte{0x55}, 16))
	amsg, err := cl.authenticate(chal)
	if err != nil {
		t.Fatal(err)
	}
	if _, done, err := s.Step(amsg); err != nil || !done {
		t.Fatalf("Step = done %v, err %v", done, err)
	}
	if want := bytes.Repeat([]byte{0x55}, 16); !bytes.Equal(s.SessionKey(), want) {
		t.Fatalf("SessionKey = %x, want %x", s.SessionKey(), want)
	}
}

// TestNLMPSealExample checks the signing/sealing keys and the signature
// layout against MS-NLMP 4.2.4.4 (GSS_WrapEx of "Plaintext", client side).
func TestNLMPSealExample(t *testing.T) {
	sec := newNTLMSecurity(0xe28a8233, bytes.Repeat([]byte{0x55}, 16))
	msg := utf16le("Plaintext")
	sealed := make([]byte, len(msg))
	sec.clientHandle.XORKeyStream(sealed, msg)
	if want := unhex(t, "54e50165bf1936dc996020c1811b0f06fb5f"); !bytes.Equal(sealed, want) {
		t.Fatalf("sealed = %x, want %x", sealed, want)
	}
	sig := computeMIC(sec.flags, sec.clientSign, sec.clientHandle, 0, msg)
	if want := unhex(t, "010000007fb38ec5c55d497600000000"); !bytes.Equal(sig, want) {
		t.Fatalf("signature = %x, want %x", sig, want)
	}
}
