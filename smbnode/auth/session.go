package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rc4"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

type sessionState int

const (
	stateInitial    sessionState = iota // expecting NEGOTIATE (raw or in negTokenInit)
	stateChallenged                     // CHALLENGE sent, expecting AUTHENTICATE
	stateMICPending                     // authenticated; waiting for the client's mechListMIC
	stateDone                           // succeeded
	stateFailed                         // failed; the Session is finished
)

// Session is one authentication exchange on one SMB2 session. It is not
// safe for concurrent use; SMB2 processes one SESSION_SETUP of a session at
// a time anyway.
type Session struct {
	cfg Config
	log *slog.Logger

	rand io.Reader        // challenge source; crypto/rand outside tests
	now  func() time.Time // CHALLENGE timestamp

	state  sessionState
	spnego bool

	mechTypesDER []byte // client's MechTypeList, for the mechListMIC
	requestMIC   bool   // NTLMSSP was not the client's first choice

	negotiateMsg []byte
	challengeMsg []byte
	challenge    [8]byte
	chalFlags    uint32

	flags      uint32 // negotiated flags after AUTHENTICATE
	ntlmMIC    bool   // AUTHENTICATE carried a verified MIC
	sec        *ntlmSecurity
	sessionKey []byte

	user, domain, workstation string
	guest, anonymous          bool
}

// NewSession starts an authentication exchange. cfg should have passed
// Validate; a nil Users refuses every logon.
func NewSession(cfg Config) *Session {
	return &Session{
		cfg:  cfg,
		log:  cfg.logger(),
		rand: rand.Reader,
		now:  time.Now,
	}
}

// Step consumes the client's SESSION_SETUP security buffer and returns the
// buffer to send back (which may be nil).
//
// done=false with err=nil means the exchange continues
// (STATUS_MORE_PROCESSING_REQUIRED). done=true with err=nil means the client
// is authenticated (or admitted as guest/anonymous when Config.AllowGuest).
// On error the Session is finished; every later Step returns ErrSessionDone.
// Errors wrap ErrLogonFailure, ErrInvalidToken or ErrMechUnsupported.
//
// Step accepts a SPNEGO negTokenInit (with an NTLM NEGOTIATE as mechToken,
// or none), a negTokenResp carrying the AUTHENTICATE, and raw NTLMSSP
// messages without SPNEGO. in is not retained after Step returns.
func (s *Session) Step(in []byte) (out []byte, done bool, err error) {
	switch s.state {
	case stateInitial:
		out, err = s.stepNegotiate(in)
	case stateChallenged:
		out, done, err = s.stepAuthenticate(in)
	case stateMICPending:
		out, err = s.stepMechListMIC(in)
		done = err == nil
	default:
		return nil, false, ErrSessionDone
	}
	if err != nil {
		s.state = stateFailed
		s.sessionKey = nil
		s.log.Debug("authentication failed", "user", s.user, "domain", s.domain,
			"workstation", s.workstation, "err", err)
		return nil, false, err
	}
	return out, done, nil
}

func (s *Session) stepNegotiate(in []byte) ([]byte, error) {
	if bytes.HasPrefix(in, ntlmSignature) {
		flags, err := parseNegotiate(in)
		if err != nil {
			return nil, err
		}
		s.negotiateMsg = bytes.Clone(in)
		return s.makeChallenge(flags)
	}
	init, err := parseNegTokenInit(in)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	s.spnego = true
	s.mechTypesDER = bytes.Clone(init.mechTypesDER)
	idx := -1
	for i, m := range init.mechTypes {
		if bytes.Equal(m, oidNTLMSSP) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, ErrMechUnsupported
	}
	flags := defaultClientFlags
	if idx == 0 && init.mechToken != nil {
		if flags, err = parseNegotiate(init.mechToken); err != nil {
			return nil, err
		}
		s.negotiateMsg = bytes.Clone(init.mechToken)
	}
	negState := negStateAcceptIncomplete
	if idx != 0 {
		// The optimistic token (if any) was for another mechanism; RFC 4178
		// then requires the mechListMIC exchange.
		s.requestMIC = true
		negState = negStateRequestMIC
	}
	chal, err := s.makeChallenge(flags)
	if err != nil {
		return nil, err
	}
	return encodeNegTokenResp(negState, oidNTLMSSP, chal, nil), nil
}

// makeChallenge builds and remembers the CHALLENGE_MESSAGE.
func (s *Session) makeChallenge(clientFlags uint32) ([]byte, error) {
	if _, err := io.ReadFull(s.rand, s.challenge[:]); err != nil {
		return nil, fmt.Errorf("auth: server challenge: %w", err)
	}
	s.chalFlags = challengeFlags(clientFlags)
	var target []byte
	if s.chalFlags&flagUnicode != 0 {
		target = utf16le(s.cfg.NetBIOSName)
	} else {
		target = []byte(s.cfg.NetBIOSName)
	}
	info := targetInfo(s.cfg, filetime(s.now()))
	s.challengeMsg = buildChallenge(s.chalFlags, s.challenge, target, info)
	s.state = stateChallenged
	return bytes.Clone(s.challengeMsg), nil
}

// filetime converts t to a Windows FILETIME (100 ns since 1601-01-01).
func filetime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}

func (s *Session) stepAuthenticate(in []byte) ([]byte, bool, error) {
	amsg := in
	var resp *negTokenResp
	if s.spnego {
		var err error
		resp, err = parseNegTokenResp(in)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrInvalidToken, err)
		}
		if resp.negState == negStateReject {
			return nil, false, fmt.Errorf("%w: client rejected the negotiation", ErrLogonFailure)
		}
		if resp.supportedMech != nil && !bytes.Equal(resp.supportedMech, oidNTLMSSP) {
			return nil, false, fmt.Errorf("%w: client switched mechanism", ErrInvalidToken)
		}
		if resp.responseToken == nil {
			return nil, false, fmt.Errorf("%w: negTokenResp without responseToken", ErrInvalidToken)
		}
		amsg = resp.responseToken
	}
	if err := s.authenticate(amsg); err != nil {
		return nil, false, err
	}
	if !s.spnego {
		s.state = stateDone
		return nil, true, nil
	}

	// SPNEGO mechListMIC, as MS-SPNG 3.2.5.1 and Samba's gensec_spnego do
	// it: check the client's if present; sign ours whenever the exchange is
	// "new style" (NTLM MIC, client MIC, or mechanism not first choice).
	haveSign := s.sec != nil && s.flags&flagSign != 0
	newStyle := s.ntlmMIC || len(resp.mechListMIC) > 0 || s.requestMIC
	if haveSign && len(resp.mechListMIC) > 0 {
		if !s.sec.verifyClientMIC(0, s.mechTypesDER, resp.mechListMIC) {
			return nil, false, fmt.Errorf("%w: %w: SPNEGO mechListMIC", ErrLogonFailure, ErrMICMismatch)
		}
	}
	var mic []byte
	if haveSign && newStyle {
		mic = s.sec.serverMIC(0, s.mechTypesDER)
		if len(resp.mechListMIC) == 0 {
			// We need the client's MIC before we may trust the mechanism
			// choice: one more round.
			s.state = stateMICPending
			return encodeNegTokenResp(negStateAcceptIncomplete, nil, nil, mic), false, nil
		}
	}
	s.state = stateDone
	return encodeNegTokenResp(negStateAcceptCompleted, nil, nil, mic), true, nil
}

func (s *Session) stepMechListMIC(in []byte) ([]byte, error) {
	if !s.spnego {
		return nil, ErrSessionDone
	}
	resp, err := parseNegTokenResp(in)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if len(resp.mechListMIC) == 0 {
		return nil, fmt.Errorf("%w: client did not send the requested mechListMIC", ErrInvalidToken)
	}
	if !s.sec.verifyClientMIC(0, s.mechTypesDER, resp.mechListMIC) {
		return nil, fmt.Errorf("%w: %w: SPNEGO mechListMIC", ErrLogonFailure, ErrMICMismatch)
	}
	s.state = stateDone
	return encodeNegTokenResp(negStateAcceptCompleted, nil, nil, nil), nil
}

// Minimum NTLMv2 response: 16-byte NTProofStr + 28-byte blob header + MsvAvEOL.
const minNTLMv2Response = 16 + 28 + 4

// authenticate checks an AUTHENTICATE_MESSAGE (MS-NLMP 3.2.5.1.2 and
// 3.3.2) and sets the session key, identity and NTLM security context.
func (s *Session) authenticate(amsg []byte) error {
	a, err := parseAuthenticate(amsg)
	if err != nil {
		return err
	}
	s.user, s.domain, s.workstation = a.user, a.domain, a.workstation
	s.flags = s.chalFlags & a.flags

	// Anonymous: no user, no NT response, an empty or all-zero LM response
	// (MS-NLMP 3.2.5.1.2 sends a single zero byte; some clients send Z(24)).
	if a.user == "" && len(a.ntResponse) == 0 && allZero(a.lmResponse) {
		if !s.cfg.AllowGuest {
			return fmt.Errorf("%w: anonymous logon not allowed", ErrLogonFailure)
		}
		s.anonymous = true
		return nil
	}
	if len(a.ntResponse) < minNTLMv2Response {
		return fmt.Errorf("%w: LM/NTLMv1 response (NT response of %d bytes) refused", ErrLogonFailure, len(a.ntResponse))
	}
	proof, blob := a.ntResponse[:16], a.ntResponse[16:]
	avFlags, err := parseAVPairs(blob[28:])
	if err != nil {
		return err
	}

	var hash [16]byte
	known := false
	if s.cfg.Users != nil {
		hash, known = s.cfg.Users.NTHash(a.user)
	}
	if !known && s.cfg.AllowGuest {
		s.guest = true
		return nil
	}
	// For an unknown user the computation below runs on a zero hash and
	// fails, so unknown users and wrong passwords take the same time.
	var responseKey []byte
	for _, d := range s.candidateDomains(a.domain) {
		k := ntowfv2(hash, a.user, d)
		if hmac.Equal(hmacMD5(k, s.challenge[:], blob), proof) && responseKey == nil {
			responseKey = k
		}
	}
	if !known || responseKey == nil {
		if !known {
			return fmt.Errorf("%w: unknown user", ErrLogonFailure)
		}
		return fmt.Errorf("%w: wrong password", ErrLogonFailure)
	}

	sessionBaseKey := hmacMD5(responseKey, proof)
	exported := sessionBaseKey // KeyExchangeKey = SessionBaseKey for NTLMv2
	if s.flags&flagKeyExch != 0 {
		if len(a.encryptedKey) != 16 {
			return fmt.Errorf("%w: KEY_EXCH with an encrypted session key of %d bytes", ErrInvalidToken, len(a.encryptedKey))
		}
		c, _ := rc4.NewCipher(sessionBaseKey)
		exported = make([]byte, 16)
		c.XORKeyStream(exported, a.encryptedKey)
	}

	if avFlags&avFlagMIC != 0 {
		if len(amsg) < authMICEnd {
			return fmt.Errorf("%w: AUTHENTICATE announces a MIC but is %d bytes", ErrInvalidToken, len(amsg))
		}
		zeroed := bytes.Clone(amsg)
		clear(zeroed[authOffMIC:authMICEnd])
		want := hmacMD5(exported, s.negotiateMsg, s.challengeMsg, zeroed)
		if !hmac.Equal(want, amsg[authOffMIC:authMICEnd]) {
			return fmt.Errorf("%w: %w: NTLM AUTHENTICATE MIC", ErrLogonFailure, ErrMICMismatch)
		}
		s.ntlmMIC = true
	}
	s.sessionKey = exported
	s.sec = newNTLMSecurity(s.flags, exported)
	return nil
}

// candidateDomains lists the domain names NTOWFv2 is tried with, in order,
// without duplicates: what the client sent, its upper-case form, the empty
// domain, and our own NetBIOS domain and name.
func (s *Session) candidateDomains(client string) []string {
	var out []string
	for _, d := range []string{client, strings.ToUpper(client), "", s.cfg.NetBIOSDomain, s.cfg.NetBIOSName} {
		dup := false
		for _, o := range out {
			dup = dup || o == d
		}
		if !dup {
			out = append(out, d)
		}
	}
	return out
}

// SessionKey returns the 16-byte exported session key after a successful
// authenticated exchange, or nil (before completion, after failure, and for
// guest or anonymous sessions). The caller must not modify it.
func (s *Session) SessionKey() []byte {
	if s.state != stateDone && s.state != stateMICPending {
		return nil
	}
	return s.sessionKey
}

// User returns the user name the client sent in AUTHENTICATE.
func (s *Session) User() string { return s.user }

// Domain returns the domain name the client sent in AUTHENTICATE.
func (s *Session) Domain() string { return s.domain }

// Workstation returns the workstation name the client sent in AUTHENTICATE.
func (s *Session) Workstation() string { return s.workstation }

// Guest reports whether an unknown user was admitted as guest (AllowGuest).
func (s *Session) Guest() bool { return s.state == stateDone && s.guest }

// Anonymous reports whether the client logged on anonymously (AllowGuest).
func (s *Session) Anonymous() bool { return s.state == stateDone && s.anonymous }

// Done reports whether the exchange has completed successfully.
func (s *Session) Done() bool { return s.state == stateDone }

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
