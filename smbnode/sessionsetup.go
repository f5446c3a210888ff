package smbnode

import (
	"context"
	"crypto/rand"
	"errors"

	"shoal/smbnode/auth"
	"shoal/smbnode/smbcrypto"
	"shoal/smbnode/wire"
)

func randRead(b []byte) { rand.Read(b) }

// handleSessionSetup is SMB2 SESSION_SETUP (MS-SMB2 3.3.5.5): a new
// session, a further leg of one in progress, or re-authentication.
func handleSessionSetup(ctx context.Context, r *request) error {
	c := r.c
	req, err := wire.ParseSessionSetupRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	c.mu.Lock()
	dialect, connPreauth, cipher := c.dialect, c.preauth, c.cipher
	c.mu.Unlock()
	if req.Flags&sessionFlagBinding != 0 {
		return handleBind(ctx, r, req)
	}
	s := r.sess
	if s != nil {
		c.mu.Lock()
		mine := c.sessions[s.id] == s
		c.mu.Unlock()
		if !mine {
			// A session of another connection, found only to sign this
			// answer (3.3.5.2.4); without binding it is not c's.
			return wire.StatusUserSessionDeleted
		}
	}
	if s == nil {
		if r.hdr.SessionID != 0 {
			return wire.StatusUserSessionDeleted
		}
		s = newSession(c.srv.nextSessionID.Add(1), connPreauth)
		s.setOrigin(c)
		c.mu.Lock()
		c.sessions[s.id] = s
		c.mu.Unlock()
		r.sess = s
		if req.PreviousSessionID != 0 {
			// Also a session of this very connection (Samba closes it too;
			// smb2.notify.session-reconnect).
			c.srv.logoffPrevious(req.PreviousSessionID, "")
		}
	}
	s.mu.Lock()
	if s.auth == nil || s.auth.Done() {
		// First leg, or re-authentication of a valid session (3.3.5.5.2).
		s.auth = auth.NewSession(c.srv.authCfg)
		if s.state == sessionValid {
			s.preauth = connPreauth
		}
	}
	a := s.auth
	if dialect == wire.Dialect311 {
		s.preauth = smbcrypto.PreauthUpdate(s.preauth, r.msg)
	}
	s.mu.Unlock()

	out, done, err := a.Step(req.SecurityBuffer)
	if err != nil {
		c.log.Info("session setup failed", "session", s.id, "user", a.User(), "err", err)
		c.failSession(s)
		if errors.Is(err, auth.ErrLogonFailure) {
			return wire.StatusLogonFailure
		}
		return err
	}
	resp := &wire.SessionSetupResponse{SecurityBuffer: out}
	if !done {
		r.out = resp.Append(r.out)
		if dialect == wire.Dialect311 {
			// The hash covers this MORE_PROCESSING response too: build it now.
			return c.respondPreauth(r, s, &s.preauth)
		}
		return wire.StatusMoreProcessingRequired
	}
	// Authenticated.
	s.mu.Lock()
	reauth := s.state == sessionValid
	if reauth && s.user != "" && !equalFoldUser(s.user, a.User()) {
		s.mu.Unlock()
		c.failSession(s)
		return wire.StatusNetworkSessionExpired
	}
	s.user, s.domain, s.guest = a.User(), a.Domain(), a.Guest() || a.Anonymous()
	if s.guest {
		if a.Anonymous() {
			resp.SessionFlags = wire.SessionFlagIsNull
		} else {
			resp.SessionFlags = wire.SessionFlagIsGuest
		}
	} else if !reauth {
		keys := smbcrypto.DeriveKeys(dialect, cipher, a.SessionKey(), s.preauth[:])
		s.keys = &keys
		if ch := s.channels[c]; ch != nil {
			ch.signKey = keys.Signing
		}
		s.signingRequired = c.srv.cfg.Signing == "required" || uint16(req.SecurityMode)&wire.SecurityModeSigningRequired != 0
		if c.srv.cfg.Encryption != "off" && cipher != 0 && dialect >= wire.Dialect300 {
			s.encrypt = true
			resp.SessionFlags |= wire.SessionFlagEncryptData
		}
	}
	encryptRequired := c.srv.cfg.Encryption == "required"
	s.state = sessionValid
	s.mu.Unlock()
	if encryptRequired && !s.encrypt {
		c.log.Info("session refused: encryption required but not supported by the client", "session", s.id)
		c.failSession(s)
		return wire.StatusAccessDenied
	}
	if s.guest && c.srv.cfg.Signing == "required" && !c.srv.cfg.AllowGuest {
		c.failSession(s)
		return wire.StatusLogonFailure
	}
	if req.PreviousSessionID != 0 && !reauth && !s.guest {
		// The previous session may be another node's (durable_xnode.go).
		c.srv.logoffPreviousElsewhere(ctx, req.PreviousSessionID, s.user)
	}
	c.log.Info("session established", "session", s.id, "user", s.user, "dialect", dialectName(dialect))
	r.out = resp.Append(r.out)
	return nil
}

// respondPreauth completes a 3.1.1 MORE_PROCESSING response and folds it
// into the pre-auth hash (the session's, or a binding channel's) before it
// is sent (3.3.5.5.3); a response that is signed is hashed signed.
func (c *conn) respondPreauth(r *request, s *session, preauth *[64]byte) error {
	h := r.hdr
	rh := wire.Header{
		CreditCharge: h.CreditCharge,
		Status:       wire.StatusMoreProcessingRequired,
		Command:      wire.CommandSessionSetup,
		Credits:      c.credits.grant(c.creditsWanted(&h)),
		Flags:        wire.FlagResponse,
		MessageID:    h.MessageID,
		SessionID:    s.id,
	}
	msg := rh.Append(r.out[:0])
	msg = msg[:len(r.out)]
	if w := c.signerFor(r, wire.StatusMoreProcessingRequired); w != nil {
		c.sign(w, msg)
	}
	s.mu.Lock()
	*preauth = smbcrypto.PreauthUpdate(*preauth, msg)
	s.mu.Unlock()
	r.skipResponse = true
	r.chain.status = wire.StatusMoreProcessingRequired
	return c.queueResponse(r, msg, wire.StatusMoreProcessingRequired)
}

// failSession removes a session whose authentication failed (3.3.5.5.3).
func (c *conn) failSession(s *session) {
	s.mu.Lock()
	valid := s.state == sessionValid && s.keys != nil
	s.mu.Unlock()
	if valid {
		// A failed re-authentication expires nothing else; Windows keeps the
		// session but Samba tears it down. We tear it down.
	}
	s.unbindAll(c)
	s.logoff(c)
}

// logoffPrevious ends the session a reconnecting client names as its
// PreviousSessionId (3.3.5.5.3), if it belongs to user ("": any user). It
// reports whether it found the session.
func (s *Server) logoffPrevious(id uint64, user string) bool {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		sess := c.sessions[id]
		c.mu.Unlock()
		if sess != nil {
			if user != "" && !equalFoldUser(sess.account(), user) {
				return false
			}
			sess.unbindAll(c)
			sess.logoff(c)
			return true
		}
	}
	return false
}

// handleLogoff is SMB2 LOGOFF (3.3.5.6).
func handleLogoff(ctx context.Context, r *request) error {
	c := r.c
	r.sess.unbindAll(c)
	r.sess.logoff(c)
	r.out = appendFixed4(r.out)
	return nil
}

// appendFixed4 appends the 4-byte body (StructureSize 4, Reserved) shared by
// LOGOFF, TREE_DISCONNECT, ECHO and FLUSH responses.
func appendFixed4(b []byte) []byte { return append(b, 4, 0, 0, 0) }

func equalFoldUser(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 32
		}
		if 'a' <= y && y <= 'z' {
			y -= 32
		}
		if x != y {
			return false
		}
	}
	return true
}

func dialectName(d uint16) string {
	switch d {
	case wire.Dialect202:
		return "2.0.2"
	case wire.Dialect210:
		return "2.1"
	case wire.Dialect300:
		return "3.0"
	case wire.Dialect302:
		return "3.0.2"
	case wire.Dialect311:
		return "3.1.1"
	}
	return "?"
}
