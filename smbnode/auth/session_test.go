package auth

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
)

type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

func testConfig(t testing.TB) Config {
	cfg := DefaultConfig()
	cfg.NetBIOSName = "SHOALTEST"
	cfg.NetBIOSDomain = "WORKGROUP"
	cfg.DNSName = "shoaltest.example"
	cfg.DNSDomain = "example"
	cfg.Users = mapUsers{"alice": "Secret-1", "Bob": "pässwörd"}
	cfg.Logger = slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// spnegoExchange runs a complete SPNEGO/NTLM exchange and returns the
// server's final token and error.
func spnegoExchange(t *testing.T, s *Session, c *testClient, sendMechListMIC bool) (final []byte, err error) {
	t.Helper()
	out, done, err := s.Step(spnegoInit([][]byte{oidNTLMSSP}, c.negotiate()))
	if err != nil || done {
		t.Fatalf("negTokenInit: done %v err %v", done, err)
	}
	resp, err := parseNegTokenResp(out)
	if err != nil {
		t.Fatalf("server reply is not a negTokenResp: %v", err)
	}
	if resp.negState != negStateAcceptIncomplete || !bytes.Equal(resp.supportedMech, oidNTLMSSP) {
		t.Fatalf("first reply: negState %d supportedMech %x", resp.negState, resp.supportedMech)
	}
	amsg, err := c.authenticate(resp.responseToken)
	if err != nil {
		t.Fatal(err)
	}
	var mic []byte
	if sendMechListMIC {
		mic = c.security().computeClientMIC(0, s.mechTypesDER)
	}
	out, done, err = s.Step(encodeNegTokenResp(negStateAcceptIncomplete, nil, amsg, mic))
	if err != nil {
		return nil, err
	}
	if !done {
		t.Fatalf("AUTHENTICATE: not done")
	}
	return out, nil
}

// computeClientMIC signs as the client (test helper).
func (s *ntlmSecurity) computeClientMIC(seq uint32, msg []byte) []byte {
	return computeMIC(s.flags, s.clientSign, s.clientHandle, seq, msg)
}

// verifyServerMIC checks a server signature as the client would.
func (s *ntlmSecurity) verifyServerMIC(seq uint32, msg, mic []byte) bool {
	return bytes.Equal(computeMIC(s.flags, s.serverSign, s.serverHandle, seq, msg), mic)
}

func TestSPNEGORoundTrip(t *testing.T) {
	tests := []struct {
		name               string
		user, pass, domain string
		noKeyExch, noMIC   bool
		flags              uint32
	}{
		{name: "key exchange and MIC", user: "alice", pass: "Secret-1", domain: "WORKGROUP"},
		{name: "user case-insensitive, empty domain", user: "ALICE", pass: "Secret-1", domain: ""},
		{name: "client domain differs", user: "alice", pass: "Secret-1", domain: "ELSEWHERE"},
		{name: "non-ASCII password", user: "bob", pass: "pässwörd", domain: "workgroup"},
		{name: "no key exchange", user: "alice", pass: "Secret-1", domain: "WORKGROUP", noKeyExch: true},
		{name: "no NTLM MIC", user: "alice", pass: "Secret-1", domain: "WORKGROUP", noMIC: true},
		{name: "seal and 56-bit only", user: "alice", pass: "Secret-1", domain: "X",
			flags: (defaultClientFlags | flagSeal) &^ flag128},
		{name: "no extended session security", user: "alice", pass: "Secret-1", domain: "X",
			flags: defaultClientFlags &^ flagExtendedSessionSec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSession(testConfig(t))
			c := newTestClient(tt.user, tt.pass, tt.domain)
			c.noKeyExch, c.noMIC = tt.noKeyExch, tt.noMIC
			if tt.flags != 0 {
				c.flags = tt.flags
			}
			final, err := spnegoExchange(t, s, c, true)
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if !bytes.Equal(s.SessionKey(), c.exportedKey) || len(s.SessionKey()) != 16 {
				t.Fatalf("server session key %x, client %x", s.SessionKey(), c.exportedKey)
			}
			if tt.noKeyExch == false && bytes.Equal(c.exportedKey, c.randomKey[:]) == false {
				t.Fatalf("key exchange not used")
			}
			resp, err := parseNegTokenResp(final)
			if err != nil {
				t.Fatal(err)
			}
			if resp.negState != negStateAcceptCompleted {
				t.Fatalf("final negState %d", resp.negState)
			}
			// The client verifies our mechListMIC with its own keys; its
			// server-direction RC4 handle is fresh.
			if !c.security().verifyServerMIC(0, s.mechTypesDER, resp.mechListMIC) {
				t.Fatalf("server mechListMIC %x does not verify", resp.mechListMIC)
			}
			if s.User() != tt.user || s.Domain() != tt.domain || s.Workstation() != "CLIENT1" {
				t.Fatalf("identity %q %q %q", s.User(), s.Domain(), s.Workstation())
			}
			if s.Guest() || s.Anonymous() || !s.Done() {
				t.Fatalf("guest %v anonymous %v done %v", s.Guest(), s.Anonymous(), s.Done())
			}
			if _, _, err := s.Step(final); !errors.Is(err, ErrSessionDone) {
				t.Fatalf("Step after done: %v", err)
			}
		})
	}
}

func TestRawNTLMSSP(t *testing.T) {
	s := NewSession(testConfig(t))
	c := newTestClient("alice", "Secret-1", "")
	chal, done, err := s.Step(c.negotiate())
	if err != nil || done {
		t.Fatalf("negotiate: %v %v", done, err)
	}
	amsg, err := c.authenticate(chal)
	if err != nil {
		t.Fatal(err)
	}
	out, done, err := s.Step(amsg)
	if err != nil || !done || out != nil {
		t.Fatalf("authenticate: out %x done %v err %v", out, done, err)
	}
	if !bytes.Equal(s.SessionKey(), c.exportedKey) {
		t.Fatalf("session key %x != %x", s.SessionKey(), c.exportedKey)
	}
}

func TestLogonFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(c *testClient)
		cfg   func(c *Config)
		want  error
		guest bool
		anon  bool
	}{
		{name: "wrong password", setup: func(c *testClient) { c.password = "secret-1" }, want: ErrLogonFailure},
		{name: "unknown user", setup: func(c *testClient) { c.user = "mallory" }, want: ErrLogonFailure},
		{name: "NTLMv1 response", setup: func(c *testClient) { c.ntResponse = make([]byte, 24) }, want: ErrLogonFailure},
		{name: "short NTLMv2 response", setup: func(c *testClient) { c.ntResponse = make([]byte, 40) }, want: ErrLogonFailure},
		{name: "anonymous refused", setup: func(c *testClient) { c.user, c.ntResponse = "", []byte{} }, want: ErrLogonFailure},
		{name: "anonymous allowed", setup: func(c *testClient) { c.user, c.ntResponse = "", []byte{} },
			cfg: func(c *Config) { c.AllowGuest = true }, anon: true},
		{name: "unknown user as guest", setup: func(c *testClient) { c.user = "mallory" },
			cfg: func(c *Config) { c.AllowGuest = true }, guest: true},
		{name: "wrong password with guest allowed", setup: func(c *testClient) { c.password = "nope" },
			cfg: func(c *Config) { c.AllowGuest = true }, want: ErrLogonFailure},
		{name: "bad NTLM MIC", setup: func(c *testClient) { c.corruptMIC = true }, want: ErrMICMismatch},
		{name: "no users configured", cfg: func(c *Config) { c.Users = nil }, want: ErrLogonFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			s := NewSession(cfg)
			c := newTestClient("alice", "Secret-1", "WORKGROUP")
			if tt.setup != nil {
				tt.setup(c)
			}
			final, err := spnegoExchange(t, s, c, false)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if !errors.Is(err, ErrLogonFailure) {
					t.Fatalf("err = %v, not a logon failure", err)
				}
				if s.SessionKey() != nil || s.Done() {
					t.Fatalf("failed session has a key or is done")
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			resp, err := parseNegTokenResp(final)
			if err != nil || resp.negState != negStateAcceptCompleted || resp.mechListMIC != nil {
				t.Fatalf("final token %x: %v", final, err)
			}
			if s.Guest() != tt.guest || s.Anonymous() != tt.anon || s.SessionKey() != nil {
				t.Fatalf("guest %v anonymous %v key %x", s.Guest(), s.Anonymous(), s.SessionKey())
			}
		})
	}
}

// TestMechListMICRound: the AUTHENTICATE carries an NTLM MIC but the client
// sent no mechListMIC; the server sends its MIC with accept-incomplete and
// waits for the client's.
func TestMechListMICRound(t *testing.T) {
	for _, corrupt := range []bool{false, true} {
		s := NewSession(testConfig(t))
		c := newTestClient("alice", "Secret-1", "WORKGROUP")
		out, _, err := s.Step(spnegoInit([][]byte{oidNTLMSSP}, c.negotiate()))
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := parseNegTokenResp(out)
		amsg, _ := c.authenticate(resp.responseToken)
		out, done, err := s.Step(encodeNegTokenResp(-1, nil, amsg, nil))
		if err != nil || done {
			t.Fatalf("done %v err %v", done, err)
		}
		resp, err = parseNegTokenResp(out)
		if err != nil || resp.negState != negStateAcceptIncomplete {
			t.Fatalf("reply %x: %v", out, err)
		}
		sec := c.security()
		if !sec.verifyServerMIC(0, s.mechTypesDER, resp.mechListMIC) {
			t.Fatal("server mechListMIC does not verify")
		}
		mic := sec.computeClientMIC(0, s.mechTypesDER)
		if corrupt {
			mic[5] ^= 0x80
		}
		out, done, err = s.Step(encodeNegTokenResp(negStateAcceptIncomplete, nil, nil, mic))
		if corrupt {
			if !errors.Is(err, ErrMICMismatch) || !errors.Is(err, ErrLogonFailure) || s.SessionKey() != nil {
				t.Fatalf("corrupt mechListMIC: err %v", err)
			}
			continue
		}
		if err != nil || !done {
			t.Fatalf("done %v err %v", done, err)
		}
		resp, err = parseNegTokenResp(out)
		if err != nil || resp.negState != negStateAcceptCompleted {
			t.Fatalf("final %x: %v", out, err)
		}
	}
}

func TestBadClientMechListMIC(t *testing.T) {
	s := NewSession(testConfig(t))
	c := newTestClient("alice", "Secret-1", "WORKGROUP")
	out, _, err := s.Step(spnegoInit([][]byte{oidNTLMSSP}, c.negotiate()))
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := parseNegTokenResp(out)
	amsg, _ := c.authenticate(resp.responseToken)
	mic := c.security().computeClientMIC(1, s.mechTypesDER) // wrong sequence number
	if _, _, err := s.Step(encodeNegTokenResp(negStateAcceptIncomplete, nil, amsg, mic)); !errors.Is(err, ErrMICMismatch) {
		t.Fatalf("err = %v, want ErrMICMismatch", err)
	}
}

// TestNoOptimisticToken: negTokenInit without a mechToken, and with NTLMSSP
// offered second after Kerberos.
func TestNoOptimisticToken(t *testing.T) {
	krb5 := []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
	tests := []struct {
		name      string
		mechs     [][]byte
		token     []byte
		wantState int
	}{
		{"no token", [][]byte{oidNTLMSSP}, nil, negStateAcceptIncomplete},
		{"kerberos first", [][]byte{krb5, oidNTLMSSP}, []byte("a kerberos AP-REQ"), negStateRequestMIC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSession(testConfig(t))
			c := newTestClient("alice", "Secret-1", "WORKGROUP")
			c.negotiate()
			c.negotiateMsg = nil // MIC covers an absent NEGOTIATE
			out, _, err := s.Step(spnegoInit(tt.mechs, tt.token))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := parseNegTokenResp(out)
			if err != nil || resp.negState != tt.wantState {
				t.Fatalf("reply %x: %v", out, err)
			}
			amsg, err := c.authenticate(resp.responseToken)
			if err != nil {
				t.Fatal(err)
			}
			mic := c.security().computeClientMIC(0, s.mechTypesDER)
			out, done, err := s.Step(encodeNegTokenResp(-1, nil, amsg, mic))
			if err != nil || !done {
				t.Fatalf("done %v err %v", done, err)
			}
			if !bytes.Equal(s.SessionKey(), c.exportedKey) {
				t.Fatal("session key mismatch")
			}
		})
	}
}

func TestInvalidTokens(t *testing.T) {
	krb5 := []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrInvalidToken},
		{"garbage", []byte("hello"), ErrInvalidToken},
		{"only kerberos", spnegoInit([][]byte{krb5}, nil), ErrMechUnsupported},
		{"raw AUTHENTICATE first", append(append([]byte{}, ntlmSignature...), 3, 0, 0, 0), ErrInvalidToken},
		{"truncated NEGOTIATE", append(append([]byte{}, ntlmSignature...), 1, 0, 0, 0), ErrInvalidToken},
		{"negTokenResp first", encodeNegTokenResp(1, nil, []byte("x"), nil), ErrInvalidToken},
		{"trailing bytes", append(spnegoInit([][]byte{oidNTLMSSP}, nil), 0), ErrInvalidToken},
		{"long length", []byte{0x60, 0x85, 1, 0, 0, 0, 0}, ErrInvalidToken},
		{"indefinite length", []byte{0x60, 0x80, 0, 0}, ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSession(testConfig(t))
			if _, _, err := s.Step(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if _, _, err := s.Step(tt.in); !errors.Is(err, ErrSessionDone) {
				t.Fatalf("second Step: %v", err)
			}
		})
	}
}

func TestChallengeMessage(t *testing.T) {
	cfg := testConfig(t)
	s := NewSession(cfg)
	c := newTestClient("alice", "x", "")
	c.flags = flagUnicode | flagRequestTarget | flagSign | flagNTLM | flagExtendedSessionSec | flagLMKey | flagAnonymous
	chal, _, err := s.Step(c.negotiate())
	if err != nil {
		t.Fatal(err)
	}
	flags := le.Uint32(chal[chalOffFlags:])
	want := flagUnicode | flagRequestTarget | flagSign | flagNTLM | flagExtendedSessionSec | flagTargetInfo | flagTargetTypeServer
	if flags != want {
		t.Fatalf("flags %08x, want %08x", flags, want)
	}
	name, err := ntlmField(chal, chalOffTargetName)
	if err != nil || fromUTF16le(name) != cfg.NetBIOSName {
		t.Fatalf("target name %q: %v", fromUTF16le(name), err)
	}
	info, err := ntlmField(chal, chalOffTargetInfo)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint16]string{}
	for b := info; len(b) >= 4; {
		id, n := le.Uint16(b), int(le.Uint16(b[2:]))
		got[id] = fromUTF16le(b[4 : 4+n])
		b = b[4+n:]
	}
	for id, v := range map[uint16]string{avNbComputerName: cfg.NetBIOSName, avNbDomainName: cfg.NetBIOSDomain,
		avDNSComputerName: cfg.DNSName, avDNSDomainName: cfg.DNSDomain} {
		if got[id] != v {
			t.Errorf("AV pair %d = %q, want %q", id, got[id], v)
		}
	}
	if _, ok := got[avTimestamp]; !ok {
		t.Error("no MsvAvTimestamp")
	}
	if _, err := parseAVPairs(info); err != nil {
		t.Error(err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := testConfig(t)
	tests := []struct {
		name string
		mod  func(c *Config)
		ok   bool
	}{
		{"good", func(c *Config) {}, true},
		{"no users", func(c *Config) { c.Users = nil }, false},
		{"no name", func(c *Config) { c.NetBIOSName = "" }, false},
		{"long name", func(c *Config) { c.NetBIOSName = "ABCDEFGHIJKLMNOP" }, false},
		{"bad char", func(c *Config) { c.NetBIOSDomain = "A/B" }, false},
	}
	for _, tt := range tests {
		c := good
		tt.mod(&c)
		err := c.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%s: Validate = %v", tt.name, err)
		}
	}
}
