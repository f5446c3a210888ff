package smbnode

import (
	"context"
	"errors"

	"shoal/smbnode/auth"
	"shoal/smbnode/smbcrypto"
	"shoal/smbnode/wire"
)

// Multichannel (MS-SMB2 3.3.5.5 with SMB2_SESSION_FLAG_BINDING): a session
// authenticated on one connection is bound to further connections of the
// same client, each a channel with a signing key of its own. Trees, opens
// and the encryption keys stay the session's; the session lives as long
// as one of its channels does.

// sessionFlagBinding is SMB2_SESSION_FLAG_BINDING (2.2.5).
const sessionFlagBinding = 0x01

// statusRequestOutOfSequence is STATUS_REQUEST_OUT_OF_SEQUENCE: a binding
// whose connection signs with another algorithm than the session's GMAC.
const statusRequestOutOfSequence wire.Status = 0xC000042A

// channel is one connection bound to a session (3.3.1.8 ChannelList).
type channel struct {
	conn    *conn
	signKey []byte // nil until the binding completes (or a guest's)
	signAlg smbcrypto.SigningAlgorithm
	// A binding in progress: its own authentication exchange and, for
	// 3.1.1, its own pre-auth hash starting from the connection's.
	auth    *auth.Session
	preauth [64]byte
}

// setOrigin records c, on which s was created, as the session's first
// channel, and the parameters a later binding must match; s is not
// shared yet.
func (s *session) setOrigin(c *conn) {
	c.mu.Lock()
	s.dialect, s.cipher, s.signAlg, s.clientGUID = c.dialect, c.cipher, c.signAlg, c.clientGUID
	c.mu.Unlock()
	s.channels = map[*conn]*channel{c: {conn: c, signAlg: s.signAlg}}
}

// signingKey is the key that signs and verifies s's messages on c with
// its algorithm: the channel's own once bound, else the session's (a
// binding request is signed with it). hasChannel reports a bound channel.
func (s *session) signingKey(c *conn) (key []byte, alg smbcrypto.SigningAlgorithm, hasChannel bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.channels[c]; ch != nil && len(ch.signKey) > 0 {
		return ch.signKey, ch.signAlg, true
	}
	if s.keys == nil || len(s.keys.Signing) == 0 {
		return nil, 0, false
	}
	return s.keys.Signing, s.signAlg, false
}

// dropChannel removes c from s's channels and reports whether the session
// lives on through another channel.
func (s *session) dropChannel(c *conn) (remaining bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.channels, c)
	for _, ch := range s.channels {
		if len(ch.signKey) > 0 {
			return true
		}
	}
	return false
}

// unbindAll removes s from the session table of every connection bound
// to it (LOGOFF, failed re-authentication): c and every channel. The
// channels keep their keys: the answer that ends the session is still
// signed with the key of the channel it goes out on.
func (s *session) unbindAll(c *conn) {
	s.mu.Lock()
	conns := []*conn{c}
	for cc := range s.channels {
		if cc != c {
			conns = append(conns, cc)
		}
	}
	s.mu.Unlock()
	for _, cc := range conns {
		cc.mu.Lock()
		if cc.sessions[s.id] == s {
			delete(cc.sessions, s.id)
		}
		cc.mu.Unlock()
	}
}

// findSession looks a session up on every connection of the server: a
// SESSION_SETUP may name a session of another connection (a binding, or
// an error that must be signed with that session's key, 3.3.5.2.4).
func (srv *Server) findSession(id uint64) *session {
	if id == 0 {
		return nil
	}
	srv.mu.Lock()
	conns := make([]*conn, 0, len(srv.conns))
	for c := range srv.conns {
		conns = append(conns, c)
	}
	srv.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		s := c.sessions[id]
		c.mu.Unlock()
		if s != nil {
			return s
		}
	}
	return nil
}

// handleBind is a SESSION_SETUP with SMB2_SESSION_FLAG_BINDING: it checks
// that c may join the session (3.3.5.5.2, in the order Samba checks, so
// that the status matches), then runs an authentication of the session's
// user on c and derives the channel's signing key.
func handleBind(ctx context.Context, r *request, req *wire.SessionSetupRequest) error {
	c := r.c
	if r.hdr.SessionID == 0 {
		return wire.StatusInvalidParameter
	}
	s := r.sess
	if s == nil {
		return wire.StatusUserSessionDeleted
	}
	c.mu.Lock()
	dialect, cipher, signAlg, guid, preauth := c.dialect, c.cipher, c.signAlg, c.clientGUID, c.preauth
	c.mu.Unlock()
	s.mu.Lock()
	sDialect, sCipher, sAlg, sGUID := s.dialect, s.cipher, s.signAlg, s.clientGUID
	state, guest := s.state, s.guest || s.keys == nil
	ch := s.channels[c]
	s.mu.Unlock()
	switch {
	case sAlg >= smbcrypto.AESGMAC && signAlg != sAlg:
		return statusRequestOutOfSequence
	case signAlg >= smbcrypto.AESGMAC && sAlg != signAlg:
		return wire.StatusNotSupported
	case dialect < wire.Dialect300:
		return wire.StatusRequestNotAccepted
	case !r.doSigning:
		return wire.StatusInvalidParameter
	case sDialect != dialect, sCipher != cipher:
		return wire.StatusInvalidParameter
	case sGUID != guid || state != sessionValid:
		// Only connections of the same client (ClientGuid) share sessions.
		return wire.StatusUserSessionDeleted
	}
	if ch != nil && len(ch.signKey) > 0 {
		return wire.StatusRequestNotAccepted // already bound
	}
	if guest {
		return wire.StatusNotSupported
	}
	s.mu.Lock()
	if ch == nil || ch.auth == nil || ch.auth.Done() {
		ch = &channel{conn: c, signAlg: signAlg, auth: auth.NewSession(c.srv.authCfg), preauth: preauth}
		if s.channels == nil {
			s.channels = map[*conn]*channel{}
		}
		s.channels[c] = ch
	}
	a := ch.auth
	if dialect == wire.Dialect311 {
		ch.preauth = smbcrypto.PreauthUpdate(ch.preauth, r.msg)
	}
	s.mu.Unlock()

	out, done, err := a.Step(req.SecurityBuffer)
	if err != nil {
		c.log.Info("session binding failed", "session", s.id, "user", a.User(), "err", err)
		s.forgetChannel(c, ch)
		if errors.Is(err, auth.ErrLogonFailure) {
			return wire.StatusLogonFailure
		}
		return err
	}
	resp := &wire.SessionSetupResponse{SecurityBuffer: out}
	r.out = resp.Append(r.out)
	if !done {
		if dialect == wire.Dialect311 {
			return c.respondPreauth(r, s, &ch.preauth)
		}
		return wire.StatusMoreProcessingRequired
	}
	s.mu.Lock()
	user := s.user
	s.mu.Unlock()
	if a.Guest() || a.Anonymous() || !equalFoldUser(user, a.User()) {
		s.forgetChannel(c, ch)
		return wire.StatusAccessDenied
	}
	if len(a.SessionKey()) == 0 {
		s.forgetChannel(c, ch)
		return wire.StatusNotSupported
	}
	s.mu.Lock()
	keys := smbcrypto.DeriveKeys(dialect, cipher, a.SessionKey(), ch.preauth[:])
	ch.signKey, ch.auth = keys.Signing, nil
	s.mu.Unlock()
	c.mu.Lock()
	c.sessions[s.id] = s
	c.mu.Unlock()
	c.log.Info("session bound to a further channel", "session", s.id, "user", user)
	return nil
}

// forgetChannel drops a binding that failed; the session and its other
// channels are untouched.
func (s *session) forgetChannel(c *conn, ch *channel) {
	s.mu.Lock()
	if s.channels[c] == ch {
		delete(s.channels, c)
	}
	s.mu.Unlock()
}

// breakConn is the connection an oplock break for o goes out on: the one
// o was opened on, or, once that one is gone, another channel of o's
// session (MS-SMB2 3.3.4.6 tries every channel).
func (o *open) breakConn() *conn {
	c := o.conn
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if !closed || o.sess == nil {
		return c
	}
	s := o.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	for cc, ch := range s.channels {
		if len(ch.signKey) == 0 || cc == c {
			continue
		}
		cc.mu.Lock()
		live := !cc.closed
		cc.mu.Unlock()
		if live {
			return cc
		}
	}
	return c
}
