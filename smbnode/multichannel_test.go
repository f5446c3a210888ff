package smbnode

import (
	"bytes"
	"context"
	"net"
	"testing"

	"shoal/smbnode/smbcrypto"
	"shoal/smbnode/wire"
)

// bindEnv is a server that is never listened on, and hand-made
// connections over net.Pipe: enough to drive handleBind's checks.
type bindEnv struct {
	t   *testing.T
	srv *Server
}

func newBindEnv(t *testing.T) *bindEnv {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Signing = "enabled"
	cfg.Node = "n1"
	cfg.Users = testUsers{}
	cfg.Shares = []ShareConfig{{Name: "data", Path: t.TempDir()}}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &bindEnv{t: t, srv: srv}
}

// conn returns a negotiated connection registered with the server.
func (e *bindEnv) conn(dialect, cipher uint16, alg smbcrypto.SigningAlgorithm, guid byte) *conn {
	a, b := net.Pipe()
	e.t.Cleanup(func() { a.Close(); b.Close() })
	c := newConn(e.srv, a)
	c.negotiated, c.dialect, c.cipher, c.signAlg = true, dialect, cipher, alg
	c.clientGUID[0] = guid
	e.srv.mu.Lock()
	e.srv.conns[c] = struct{}{}
	e.srv.mu.Unlock()
	e.t.Cleanup(func() {
		e.srv.mu.Lock()
		delete(e.srv.conns, c)
		e.srv.mu.Unlock()
	})
	return c
}

// session returns a valid session established on c.
func (e *bindEnv) session(c *conn, guest bool) *session {
	s := newSession(e.srv.nextSessionID.Add(1), [64]byte{})
	s.setOrigin(c)
	s.state, s.user, s.guest = sessionValid, "alice", guest
	if !guest {
		keys := smbcrypto.DeriveKeys(c.dialect, c.cipher, bytes.Repeat([]byte{7}, 16), s.preauth[:])
		s.keys = &keys
		s.channels[c].signKey = keys.Signing
	}
	c.mu.Lock()
	c.sessions[s.id] = s
	c.mu.Unlock()
	return s
}

// TestBindChecks drives the checks a binding SESSION_SETUP meets before
// any authentication, in Samba's order (smb2.session.bind_negative_*).
func TestBindChecks(t *testing.T) {
	const (
		d202, d210, d300, d311 = wire.Dialect202, wire.Dialect210, wire.Dialect300, wire.Dialect311
		ccm, gcm               = smbcrypto.CipherAES128CCM, smbcrypto.CipherAES128GCM
		hmac, cmac, gmac       = smbcrypto.HMACSHA256, smbcrypto.AESCMAC, smbcrypto.AESGMAC
	)
	type side struct {
		dialect, cipher uint16
		alg             smbcrypto.SigningAlgorithm
		guid            byte
	}
	tests := []struct {
		name      string
		s, c      side
		guest     bool
		unsigned  bool
		sessionID uint64 // 0: the session's; 1: none; 2: zero
		want      wire.Status
	}{
		{name: "zero session id", s: side{d311, gcm, gmac, 1}, c: side{d311, gcm, gmac, 1}, sessionID: 2, want: wire.StatusInvalidParameter},
		{name: "unknown session", s: side{d311, gcm, gmac, 1}, c: side{d311, gcm, gmac, 1}, sessionID: 1, want: wire.StatusUserSessionDeleted},
		{name: "2.0.2 connection", s: side{d202, 0, hmac, 1}, c: side{d202, 0, hmac, 1}, want: wire.StatusRequestNotAccepted},
		{name: "2.1 to 2.1", s: side{d210, 0, hmac, 1}, c: side{d210, 0, hmac, 2}, want: wire.StatusRequestNotAccepted},
		{name: "3 to 2.1", s: side{d311, 0, cmac, 1}, c: side{d210, 0, hmac, 1}, want: wire.StatusRequestNotAccepted},
		{name: "2.1 to 3", s: side{d210, 0, hmac, 1}, c: side{d311, 0, cmac, 1}, want: wire.StatusInvalidParameter},
		{name: "3.0 to 3.1.1", s: side{d300, 0, cmac, 1}, c: side{d311, 0, cmac, 1}, want: wire.StatusInvalidParameter},
		{name: "other cipher", s: side{d311, gcm, cmac, 1}, c: side{d311, ccm, cmac, 1}, want: wire.StatusInvalidParameter},
		{name: "GMAC session, CMAC channel", s: side{d311, 0, gmac, 1}, c: side{d311, 0, cmac, 1}, want: statusRequestOutOfSequence},
		{name: "CMAC session, GMAC channel", s: side{d311, 0, cmac, 1}, c: side{d311, 0, gmac, 1}, want: wire.StatusNotSupported},
		{name: "GMAC before dialect", s: side{d311, 0, gmac, 1}, c: side{d300, 0, cmac, 1}, want: statusRequestOutOfSequence},
		{name: "unsigned", s: side{d311, 0, cmac, 1}, c: side{d311, 0, cmac, 1}, unsigned: true, want: wire.StatusInvalidParameter},
		{name: "other client", s: side{d311, 0, cmac, 1}, c: side{d311, 0, cmac, 2}, want: wire.StatusUserSessionDeleted},
		{name: "guest session", s: side{d311, 0, cmac, 1}, c: side{d311, 0, cmac, 1}, guest: true, want: wire.StatusNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBindEnv(t)
			c1 := e.conn(tt.s.dialect, tt.s.cipher, tt.s.alg, tt.s.guid)
			c2 := e.conn(tt.c.dialect, tt.c.cipher, tt.c.alg, tt.c.guid)
			s := e.session(c1, tt.guest)
			r := &request{c: c2, sess: s, doSigning: !tt.unsigned, chain: &chainState{}}
			r.hdr.SessionID = s.id
			switch tt.sessionID {
			case 1:
				r.sess, r.hdr.SessionID = nil, s.id+100
			case 2:
				r.sess, r.hdr.SessionID = nil, 0
			}
			req := &wire.SessionSetupRequest{Flags: sessionFlagBinding}
			err := handleBind(context.Background(), r, req)
			if err != tt.want {
				t.Fatalf("handleBind = %v, want %v", err, tt.want)
			}
			if _, _, has := s.signingKey(c2); has {
				t.Fatal("a refused binding left a channel with a key")
			}
			c2.mu.Lock()
			bound := c2.sessions[s.id] != nil
			c2.mu.Unlock()
			if bound {
				t.Fatal("a refused binding put the session on the connection")
			}
		})
	}
}

// TestBindStartsAuthentication: a binding that passes the checks answers
// the client's NTLM NEGOTIATE with MORE_PROCESSING, and the channel waits
// keyless; a second binding attempt on a bound channel is refused.
func TestBindStartsAuthentication(t *testing.T) {
	e := newBindEnv(t)
	c1 := e.conn(wire.Dialect302, 0, smbcrypto.AESCMAC, 1)
	c2 := e.conn(wire.Dialect302, 0, smbcrypto.AESCMAC, 1)
	s := e.session(c1, false)
	r := &request{c: c2, sess: s, doSigning: true, chain: &chainState{}, out: make([]byte, wire.HeaderSize)}
	r.hdr.SessionID = s.id
	negotiate := append([]byte("NTLMSSP\x00"), 1, 0, 0, 0, 0x07, 0x82, 0x08, 0xa2)
	negotiate = append(negotiate, make([]byte, 16)...)
	err := handleBind(context.Background(), r, &wire.SessionSetupRequest{Flags: sessionFlagBinding, SecurityBuffer: negotiate})
	if err != wire.StatusMoreProcessingRequired {
		t.Fatalf("first leg = %v, want MORE_PROCESSING_REQUIRED", err)
	}
	s.mu.Lock()
	ch := s.channels[c2]
	s.mu.Unlock()
	if ch == nil || ch.auth == nil || len(ch.signKey) != 0 {
		t.Fatalf("channel after the first leg = %+v, want one authenticating without a key", ch)
	}
	key, alg, has := s.signingKey(c2)
	if has || !bytes.Equal(key, s.keys.Signing) || alg != smbcrypto.AESCMAC {
		t.Fatal("an unbound channel must sign with the session's key")
	}

	ch.signKey, ch.auth = []byte("0123456789abcdef"), nil // as a completed binding leaves it
	r2 := &request{c: c2, sess: s, doSigning: true, chain: &chainState{}}
	r2.hdr.SessionID = s.id
	if err := handleBind(context.Background(), r2, &wire.SessionSetupRequest{Flags: sessionFlagBinding}); err != wire.StatusRequestNotAccepted {
		t.Fatalf("binding a bound channel = %v, want REQUEST_NOT_ACCEPTED", err)
	}
	if key, _, has := s.signingKey(c2); !has || string(key) != "0123456789abcdef" {
		t.Fatal("a bound channel must sign with its own key")
	}
}

// TestChannelLifetime: the session outlives the connection it was made on
// while another channel is bound, and LOGOFF removes it everywhere.
func TestChannelLifetime(t *testing.T) {
	e := newBindEnv(t)
	c1 := e.conn(wire.Dialect311, 0, smbcrypto.AESCMAC, 1)
	c2 := e.conn(wire.Dialect311, 0, smbcrypto.AESCMAC, 1)
	s := e.session(c1, false)
	if e.srv.findSession(s.id) != s {
		t.Fatal("findSession does not see the session")
	}
	if s.dropChannel(c1) {
		t.Fatal("the only channel gone, the session must end")
	}
	s = e.session(c1, false)
	s.mu.Lock()
	s.channels[c2] = &channel{conn: c2, signKey: []byte("k"), signAlg: smbcrypto.AESCMAC}
	s.mu.Unlock()
	c2.mu.Lock()
	c2.sessions[s.id] = s
	c2.mu.Unlock()
	if !s.dropChannel(c1) {
		t.Fatal("a bound channel remains: the session must live on")
	}
	s.unbindAll(c2)
	for _, c := range []*conn{c1, c2} {
		c.mu.Lock()
		left := c.sessions[s.id]
		c.mu.Unlock()
		if left != nil && c == c2 {
			t.Fatal("unbindAll left the session on a channel")
		}
	}
}
