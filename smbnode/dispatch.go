package smbnode

import (
	"bytes"
	"context"
	"fmt"

	"shoal/smbnode/smbcrypto"
	"shoal/smbnode/wire"
)

// request is one SMB2 request of a chain being handled.
type request struct {
	c    *conn
	hdr  wire.Header
	msg  []byte // the request, from its header to the end of this command
	sess *session
	tree *tree
	// enc is the session whose keys decrypted the frame, if it was encrypted.
	enc *session
	// out holds the response: a 64-byte header placeholder, then the body the
	// handler appends.
	out []byte
	// related: the FileID of the previous CREATE in the chain (3.3.5.2.7.2).
	chain *chainState
	// last reports whether this is the last request of its chain.
	last bool
	// async is set once the request has gone async (interim response sent).
	async *asyncOp
	// skipResponse: the handler already queued or sent its response.
	skipResponse bool
	// errData is the ErrorData of an error response (e.g. the size a
	// STATUS_BUFFER_TOO_SMALL needed).
	errData []byte
	// doSigning: the request was signed (or had to be) with a key of its
	// session; a SESSION_SETUP's answer is then signed whatever its status.
	doSigning bool
}

// chainState carries what related requests of a compound inherit.
type chainState struct {
	sess       *session
	tree       *tree
	fileID     wire.FileID
	haveFileID bool
	status     wire.Status // status of the previous request
	// relatedErr fails every later related request: set when a CREATE
	// fails or when the first request wrongly claims to be related
	// (3.3.5.2.7.2).
	relatedErr wire.Status
	responses  []byte // responses of the chain so far, each 8-aligned
	lastOff    int    // offset of the last response in responses
	encrypt    *session
	sign       []signJob
	// pooled are large buffers to recycle once the chain is sent.
	pooled [][]byte
	// reader is set when the chain runs on the connection's reader
	// (inline.go); goAsync releases it before anything waits.
	reader *readerHandoff
}

type signJob struct {
	off, end int
	sess     *session
}

type handler func(ctx context.Context, r *request) error

// handlers is indexed by command.
var handlers [wire.NumCommands]handler

func init() {
	handlers = [wire.NumCommands]handler{
		wire.CommandNegotiate:      handleNegotiate,
		wire.CommandSessionSetup:   handleSessionSetup,
		wire.CommandLogoff:         handleLogoff,
		wire.CommandTreeConnect:    handleTreeConnect,
		wire.CommandTreeDisconnect: handleTreeDisconnect,
		wire.CommandCreate:         handleCreate,
		wire.CommandClose:          handleClose,
		wire.CommandFlush:          handleFlush,
		wire.CommandRead:           handleRead,
		wire.CommandWrite:          handleWrite,
		wire.CommandLock:           handleLock,
		wire.CommandIoctl:          handleIoctl,
		wire.CommandCancel:         nil, // handled before dispatch
		wire.CommandEcho:           handleEcho,
		wire.CommandQueryDirectory: handleQueryDirectory,
		wire.CommandChangeNotify:   handleChangeNotify,
		wire.CommandQueryInfo:      handleQueryInfo,
		wire.CommandSetInfo:        handleSetInfo,
		wire.CommandOplockBreak:    handleOplockBreak,
	}
}

// needsSession lists commands that require a valid session, and
// needsTree the ones that also require a tree connect (MS-SMB2 3.3.5.2.9).
func needsSession(cmd wire.Command) bool {
	return cmd != wire.CommandNegotiate && cmd != wire.CommandSessionSetup && cmd != wire.CommandEcho
}

func needsTree(cmd wire.Command) bool {
	switch cmd {
	case wire.CommandNegotiate, wire.CommandSessionSetup, wire.CommandLogoff,
		wire.CommandTreeConnect, wire.CommandEcho, wire.CommandCancel:
		return false
	}
	return true
}

// runChain handles the requests of one frame in order and sends their
// responses together; reader is set when it runs on the connection's
// reader goroutine (inline.go). It returns an error only to drop the
// connection.
func (c *conn) runChain(buf []byte, enc *session, reader *readerHandoff) error {
	st := &chainState{encrypt: enc, reader: reader}
	off := 0
	for {
		h, err := wire.ParseHeader(buf[off:])
		if err != nil {
			return fmt.Errorf("%w: %v", errDrop, err)
		}
		if h.IsResponse() {
			return fmt.Errorf("%w: a response sent to the server", errDrop)
		}
		end := len(buf)
		if h.NextCommand != 0 {
			if h.NextCommand%8 != 0 || int(h.NextCommand) < wire.HeaderSize || off+int(h.NextCommand) > len(buf) {
				return fmt.Errorf("%w: bad NextCommand %d", errDrop, h.NextCommand)
			}
			end = off + int(h.NextCommand)
		}
		r := &request{c: c, hdr: h, msg: buf[off:end], chain: st, enc: enc, last: h.NextCommand == 0}
		if off == 0 && h.Flags&wire.FlagRelated != 0 {
			// The first request cannot be related (3.3.5.2.7.2): it and every
			// related request after it fail.
			st.relatedErr = wire.StatusInvalidParameter
		}
		if err := c.handle(r); err != nil {
			return err
		}
		if h.NextCommand == 0 {
			break
		}
		off = end
	}
	return c.flushChain(st)
}

// flushChain signs the collected responses and sends them as one frame.
func (c *conn) flushChain(st *chainState) error {
	if len(st.responses) == 0 {
		return nil
	}
	// The last response carries no NextCommand; in a compound it is padded
	// to 8 bytes like the others (Windows and Samba do so).
	resp := st.responses
	wire.PutNextCommand(resp[st.lastOff:], 0)
	if st.lastOff > 0 {
		for len(resp)%8 != 0 {
			resp = append(resp, 0)
		}
	}
	for _, j := range st.sign {
		end := j.end
		if j.off == st.lastOff {
			end = len(resp)
		}
		c.sign(j.sess, resp[j.off:end])
	}
	err := c.send(resp, st.encrypt)
	st.responses, st.sign, st.lastOff = nil, nil, 0
	for _, b := range st.pooled {
		putFrame(b)
	}
	st.pooled = nil
	return err
}

// sign signs one response message in place with the session's signing key.
func (c *conn) sign(s *session, msg []byte) {
	key, alg, _ := s.signingKey(c)
	if len(key) == 0 {
		return
	}
	signer := c.signer(alg, key)
	if signer == nil {
		return
	}
	wire.PutFlags(msg, leFlags(msg)|wire.FlagSigned)
	signer.Sign(msg)
}

// signerCache is the Signer a connection used last, with its key.
type signerCache struct {
	alg    smbcrypto.SigningAlgorithm
	key    []byte
	signer *smbcrypto.Signer
}

// signer returns a Signer for alg and key, kept from the previous message
// when the key is the same (nearly always: one session per connection), so
// that the AES key schedule and GHASH tables are not set up per message.
// It returns nil for a key the algorithm cannot use, which DeriveKeys and
// the channel binding never produce.
func (c *conn) signer(alg smbcrypto.SigningAlgorithm, key []byte) *smbcrypto.Signer {
	if sc := c.signers.Load(); sc != nil && sc.alg == alg && bytes.Equal(sc.key, key) {
		return sc.signer
	}
	s, err := smbcrypto.NewSigner(alg, key)
	if err != nil {
		c.log.Error("signing key unusable", "err", err)
		return nil
	}
	c.signers.Store(&signerCache{alg: alg, key: bytes.Clone(key), signer: s})
	return s
}

func leFlags(msg []byte) uint32 {
	return uint32(msg[16]) | uint32(msg[17])<<8 | uint32(msg[18])<<16 | uint32(msg[19])<<24
}

// handle runs one request and appends its response to the chain.
func (c *conn) handle(r *request) error {
	h := r.hdr
	st := r.chain
	if h.Command == wire.CommandCancel {
		c.cancelRequest(&h)
		return nil
	}
	// Sequence window (3.3.5.2.3).
	if !c.credits.consume(h.MessageID, c.chargeOf(&h)) {
		return fmt.Errorf("%w: message id %d outside the credit window", errDrop, h.MessageID)
	}
	r.out = make([]byte, wire.HeaderSize, wire.HeaderSize+256)
	var err error
	if int(h.Command) >= wire.NumCommands {
		err = wire.StatusInvalidParameter
	} else {
		err = c.prepare(r)
	}
	if err == nil {
		err = handlers[h.Command](c.ctx, r)
	}
	if r.async != nil {
		defer c.finishAsync(r.async)
	}
	if err == errDrop {
		return err
	}
	if r.skipResponse {
		return nil
	}
	status := statusOf(c, err)
	st.status = status
	if h.Command == wire.CommandCreate && status.IsError() && st.relatedErr == 0 {
		st.relatedErr = status
	}
	return c.respond(r, status)
}

// prepare finds the session and tree, checks signing and encryption, and
// resolves related-compound inheritance (3.3.5.2.4 - 3.3.5.2.11).
func (c *conn) prepare(r *request) error {
	h := &r.hdr
	st := r.chain
	related := h.Flags&wire.FlagRelated != 0
	if related && st.relatedErr != 0 {
		return st.relatedErr
	}
	if !related {
		// An unrelated request breaks the chain of file ids.
		st.haveFileID = false
	}
	sid := h.SessionID
	if related && st.sess != nil {
		sid = st.sess.id
	}
	if sid != 0 || needsSession(h.Command) {
		c.mu.Lock()
		sess := c.sessions[sid]
		c.mu.Unlock()
		if sess == nil && h.Command == wire.CommandSessionSetup {
			// A binding names a session of another connection; other
			// setups find it too, to sign their error (multichannel.go).
			sess = c.srv.findSession(sid)
		}
		if sess == nil {
			if h.Command == wire.CommandEcho {
				return nil
			}
			// Related requests after a failed session lookup are invalid.
			if st.relatedErr == 0 {
				st.relatedErr = wire.StatusInvalidParameter
			}
			return wire.StatusUserSessionDeleted
		}
		r.sess = sess
		if err := c.checkSigning(r); err != nil {
			return err
		}
		sess.mu.Lock()
		state, encrypt := sess.state, sess.encrypt
		sess.mu.Unlock()
		if needsSession(h.Command) && h.Command != wire.CommandLogoff || h.Command == wire.CommandLogoff {
			if state == sessionExpired {
				return wire.StatusNetworkSessionExpired
			}
			if state != sessionValid && h.Command != wire.CommandSessionSetup {
				return wire.StatusUserSessionDeleted
			}
		}
		if encrypt && r.enc == nil && h.Command != wire.CommandSessionSetup && state == sessionValid {
			return wire.StatusAccessDenied
		}
		st.sess = sess
	}
	if needsTree(h.Command) {
		tid := h.TreeID
		if related && st.tree != nil {
			tid = st.tree.id
		}
		if r.sess == nil {
			return wire.StatusUserSessionDeleted
		}
		t := r.sess.tree(tid)
		if t == nil {
			if st.relatedErr == 0 {
				st.relatedErr = wire.StatusInvalidParameter
			}
			return wire.StatusNetworkNameDeleted
		}
		if t.encrypt && r.enc == nil {
			return wire.StatusAccessDenied
		}
		r.tree = t
		st.tree = t
	}
	return nil
}

// checkSigning verifies a signed request, and refuses an unsigned one on a
// session that requires signing (3.3.5.2.4).
func (c *conn) checkSigning(r *request) error {
	if r.enc != nil {
		return nil // encryption authenticates the message
	}
	s := r.sess
	signed := r.hdr.Flags&wire.FlagSigned != 0
	s.mu.Lock()
	required, state := s.signingRequired, s.state
	s.mu.Unlock()
	key, alg, hasChannel := s.signingKey(c)
	if len(key) == 0 {
		return nil // no key yet (session setup in progress) or guest
	}
	if !signed && !(required && state == sessionValid) {
		return nil
	}
	if r.hdr.Command != wire.CommandCancel {
		r.doSigning = true
	}
	if signed {
		if signer := c.signer(alg, key); signer != nil && signer.Verify(r.msg) {
			return nil
		}
	}
	if r.hdr.Command == wire.CommandSessionSetup && !hasChannel {
		// A SESSION_SETUP on a connection not bound to the session: the
		// binding checks answer it, signed with the session's key.
		return nil
	}
	return wire.StatusAccessDenied
}

// chargeOf is the credit charge of a request: CreditCharge, at least one;
// without multi-credit support always one (3.3.5.2.5).
func (c *conn) chargeOf(h *wire.Header) uint16 {
	c.mu.Lock()
	d := c.dialect
	c.mu.Unlock()
	if d == wire.Dialect202 || d == 0 {
		return 1
	}
	return max(h.CreditCharge, 1)
}

// creditsWanted is what a response grants before the window cap: the
// request's charge plus the extra credits it asked for, as Windows Server
// 2016 and Samba grant them (MS-SMB2 3.3.1.2).
func (c *conn) creditsWanted(h *wire.Header) uint16 {
	charge := c.chargeOf(h)
	req := max(h.Credits, 1)
	return charge + min(req-1, maxCredits-charge)
}

// respond completes r's response header, appends it to the chain, and
// queues it for signing.
func (c *conn) respond(r *request, status wire.Status) error {
	if status != wire.StatusSuccess && !successWithBody(r, status) {
		r.out = r.out[:wire.HeaderSize]
		r.out = wire.AppendErrorResponse(r.out, r.errData)
	}
	h := r.hdr
	credits := c.credits.grant(c.creditsWanted(&h))
	if r.async != nil {
		credits = 0 // granted with the interim response
	}
	rh := wire.Header{
		CreditCharge: h.CreditCharge,
		Status:       status,
		Command:      h.Command,
		Credits:      credits,
		Flags:        wire.FlagResponse | h.Flags&(wire.FlagRelated|wire.FlagPriorityMask),
		MessageID:    h.MessageID,
		ProcessID:    h.ProcessID,
		TreeID:       h.TreeID,
		SessionID:    h.SessionID,
	}
	if r.sess != nil {
		rh.SessionID = r.sess.id
	}
	if r.tree != nil {
		rh.TreeID = r.tree.id
	}
	if r.async != nil {
		rh.Flags |= wire.FlagAsync
		rh.AsyncID = r.async.id
	}
	msg := rh.Append(r.out[:0])
	msg = msg[:len(r.out)]
	echoSignature(r, msg, status)
	return c.queueResponse(r, msg, status)
}

// echoSignature: an error that cannot be signed (no session, or not one
// of this connection) answering a signed request keeps the request's
// SMB2_FLAGS_SIGNED and signature, as Samba answers; clients that expect
// signing accept these statuses so and only so.
func echoSignature(r *request, msg []byte, status wire.Status) {
	switch status {
	case wire.StatusUserSessionDeleted, wire.StatusNetworkNameDeleted, wire.StatusFileClosed, wire.StatusInvalidParameter:
	default:
		return
	}
	if r.hdr.Flags&wire.FlagSigned == 0 || r.enc != nil || r.c.signerFor(r, status) != nil {
		return
	}
	wire.PutFlags(msg, leFlags(msg)|wire.FlagSigned)
	copy(msg[48:64], r.msg[48:64])
}

// queueResponse adds a finished response message to the chain (or sends it
// alone, for an async final response).
func (c *conn) queueResponse(r *request, msg []byte, status wire.Status) error {
	st := r.chain
	signWith := c.signerFor(r, status)
	if r.async != nil {
		// Final response of an async request: a frame of its own.
		if signWith != nil {
			c.sign(signWith, msg)
		}
		return c.send(msg, r.enc)
	}
	if len(st.responses) > 0 {
		// Pad the previous response to 8 bytes and link it.
		for len(st.responses)%8 != 0 {
			st.responses = append(st.responses, 0)
		}
		wire.PutNextCommand(st.responses[st.lastOff:], uint32(len(st.responses)-st.lastOff))
		if n := len(st.sign); n > 0 && st.sign[n-1].off == st.lastOff {
			st.sign[n-1].end = len(st.responses)
		}
	}
	st.lastOff = len(st.responses)
	if len(st.responses) == 0 {
		st.responses = msg // the first response is not copied (a READ's data)
	} else {
		st.responses = append(st.responses, msg...)
	}
	if signWith != nil {
		st.sign = append(st.sign, signJob{off: st.lastOff, end: len(st.responses), sess: signWith})
	}
	return nil
}

// signerFor decides whether a response is signed and with which session
// (3.3.4.1.1): when the request was signed or the session requires it,
// never for an encrypted frame, and not with a key that does not exist yet.
func (c *conn) signerFor(r *request, status wire.Status) *session {
	if r.enc != nil || r.sess == nil {
		return nil
	}
	s := r.sess
	s.mu.Lock()
	required := s.signingRequired
	s.mu.Unlock()
	if key, _, _ := s.signingKey(r.c); len(key) == 0 {
		return nil
	}
	if r.hdr.Command == wire.CommandSessionSetup {
		// The final SESSION_SETUP response is signed (3.3.5.5.3); so is
		// every answer to a signed binding request, errors included.
		bind := len(r.msg) > wire.HeaderSize+2 && r.msg[wire.HeaderSize+2]&sessionFlagBinding != 0
		if status == wire.StatusSuccess || r.doSigning && (bind || status.IsError()) {
			return s
		}
		return nil
	}
	if r.hdr.Flags&wire.FlagSigned != 0 || required {
		if status == wire.StatusUserSessionDeleted || status == wire.StatusNetworkSessionExpired && r.hdr.Command != wire.CommandLogoff {
			return nil
		}
		return s
	}
	return nil
}

// successWithBody reports statuses whose response carries a normal body
// rather than an error response (3.3.4.4).
func successWithBody(r *request, status wire.Status) bool {
	if r.hdr.Command == wire.CommandIoctl && status != wire.StatusSuccess {
		// A copychunk failure carries SRV_COPYCHUNK_RESPONSE, a pipe's
		// BUFFER_OVERFLOW its partial data; ioctl.go appends a body then only.
		return len(r.out) > wire.HeaderSize
	}
	switch status {
	case wire.StatusMoreProcessingRequired:
		return r.hdr.Command == wire.CommandSessionSetup
	case wire.StatusBufferOverflow:
		return len(r.out) > wire.HeaderSize
	case wire.StatusNotifyEnumDir:
		return false
	}
	return false
}
