package smbnode

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"shoal/smbnode/smbcrypto"
	"shoal/smbnode/wire"
)

// maxFrame bounds one NetBIOS frame: an 8 MiB WRITE plus headers, or a
// compound of small requests.
const maxFrame = 8<<20 + 64<<10

// conn is one client TCP connection (MS-SMB2 3.3.1.7 Connection).
type conn struct {
	srv    *Server
	nc     net.Conn
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wmu    sync.Mutex // serializes writes to nc
	bw     *bufio.Writer

	credits *creditWindow
	signers atomic.Pointer[signerCache] // dispatch.go signer
	// finished is closed when the last reader has torn the connection down.
	finished chan struct{}

	mu sync.Mutex // guards everything below
	// Negotiated state, fixed once negotiated is true.
	negotiated     bool
	dialect        uint16
	clientGUID     [16]byte
	clientCaps     uint32
	clientSecMode  uint16
	clientDialects []uint16
	serverSecMode  uint16
	serverCaps     uint32
	preauth        [64]byte
	cipher         uint16
	signAlg        smbcrypto.SigningAlgorithm
	sessions       map[uint64]*session
	opens          map[uint64]*open
	asyncs         map[uint64]*asyncOp // by async id
	pendingByMID   map[uint64]*asyncOp
	nextAsyncID    uint64
	closed         bool
	established    time.Time
	// readPadding pads READ response bodies (a test hook, see ioctl.go).
	readPadding int
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		srv:          s,
		nc:           nc,
		ctx:          ctx,
		cancel:       cancel,
		bw:           bufio.NewWriterSize(nc, 256<<10),
		credits:      newCreditWindow(),
		finished:     make(chan struct{}),
		sessions:     map[uint64]*session{},
		opens:        map[uint64]*open{},
		asyncs:       map[uint64]*asyncOp{},
		pendingByMID: map[uint64]*asyncOp{},
		established:  time.Now(),
	}
	c.log = s.log.With("client", nc.RemoteAddr().String())
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return c
}

// close ends the connection; the reader goroutine then tears down its state.
func (c *conn) close() {
	c.cancel()
	c.nc.Close()
}

// serve reads frames until the connection ends, then releases every
// session, tree and open of the connection; it returns once they are
// released, whichever goroutine read last (inline.go).
func (c *conn) serve() {
	c.readFrames(bufio.NewReaderSize(c.nc, 64<<10))
	<-c.finished
}

// readFrames is the connection's reader: it reads frames from br until the
// connection ends, then tears the connection down; or until a chain it ran
// inline handed reading over to a new goroutine (inline.go), which then
// continues here with the same br.
func (c *conn) readFrames(br *bufio.Reader) {
	h := &readerHandoff{c: c, br: br} // this goroutine's, until released
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in connection reader", "panic", r, "stack", string(debug.Stack()))
			c.close()
		}
		if !h.released.Load() {
			c.close()
			c.teardown()
			close(c.finished)
		}
	}()
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		// Direct TCP transport (MS-SMB2 2.1): a zero byte and a 24-bit length.
		if hdr[0] != 0 {
			c.log.Debug("not a session message, dropping connection", "type", hdr[0])
			return
		}
		n := int(hdr[1])<<16 | int(hdr[2])<<8 | int(hdr[3])
		if n < 4 || n > maxFrame {
			c.log.Debug("bad frame length, dropping connection", "len", n)
			return
		}
		buf := getFrame(n)
		if _, err := io.ReadFull(br, buf); err != nil {
			return
		}
		if err := c.frame(buf, h); err != nil {
			c.log.Debug("dropping connection", "err", err)
			c.close() // also when another goroutine reads by now
			return
		}
		if h.released.Load() {
			return // another goroutine reads now
		}
	}
}

// bigFrames recycles the buffers of large frames (multi-megabyte WRITEs),
// sparing the allocator and the zeroing of every one.
var bigFrames = sync.Pool{New: func() any { return new([]byte) }}

const bigFrame = 1 << 20

func getFrame(n int) []byte {
	if n < bigFrame {
		return make([]byte, n)
	}
	p := bigFrames.Get().(*[]byte)
	if cap(*p) < n {
		*p = make([]byte, maxFrame)
	}
	return (*p)[:n]
}

func putFrame(b []byte) {
	if cap(b) >= maxFrame {
		b = b[:cap(b)]
		bigFrames.Put(&b)
	}
}

// errDrop asks the reader to drop the connection.
var errDrop = errors.New("smb: drop connection")

// frame handles one NetBIOS frame on the reader h. Synchronous checks that
// must see frames in order (negotiate, credits, decryption) run here; a
// quick request chain then runs here too (inline.go), any other in its own
// goroutine.
func (c *conn) frame(buf []byte, h *readerHandoff) error {
	var encSession *session
	if wire.IsTransform(buf) {
		plain, sess, err := c.decrypt(buf)
		if err != nil {
			return err
		}
		buf, encSession = plain, sess
	} else if wire.IsSMB1Negotiate(buf) {
		return c.smb1Negotiate(buf)
	}
	hdr, err := wire.ParseHeader(buf)
	if err != nil {
		return fmt.Errorf("%w: %v", errDrop, err)
	}
	c.mu.Lock()
	negotiated := c.negotiated
	c.mu.Unlock()
	if !negotiated {
		// Only a lone NEGOTIATE may come first (MS-SMB2 3.3.5.2).
		if hdr.Command != wire.CommandNegotiate || hdr.NextCommand != 0 {
			return fmt.Errorf("%w: %v before NEGOTIATE", errDrop, hdr.Command)
		}
		return c.runChain(buf, nil, nil)
	}
	if hdr.Command == wire.CommandChangeNotify && hdr.NextCommand == 0 ||
		hdr.Command == wire.CommandIoctl && hdr.NextCommand == 0 && c.srv.ioctlInOrder(buf) {
		// A lone CHANGE_NOTIFY runs here, in arrival order, so that a
		// CANCEL or a second CHANGE_NOTIFY right behind it finds it
		// waiting; its handler never blocks (notify.go). So does the
		// IOCTL torture hook of ioctlInOrder, for the CLOSE behind it.
		return c.runChain(buf, encSession, nil)
	}
	if c.inlineChain(buf) {
		return c.runChain(buf, encSession, h)
	}
	go func() {
		defer func() {
			if r := recover(); r != nil {
				c.log.Error("panic in request", "panic", r, "stack", string(debug.Stack()))
				c.close()
			}
		}()
		if err := c.runChain(buf, encSession, nil); err != nil {
			c.log.Debug("dropping connection", "err", err)
			c.close()
		}
		putFrame(buf) // nothing keeps a reference once the chain is answered
	}()
	return nil
}

// decrypt opens a TRANSFORM_HEADER frame (MS-SMB2 3.3.5.2.1.1).
func (c *conn) decrypt(buf []byte) ([]byte, *session, error) {
	th, err := wire.ParseTransformHeader(buf)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errDrop, err)
	}
	c.mu.Lock()
	sess := c.sessions[th.SessionID]
	cipher := c.cipher
	c.mu.Unlock()
	if sess == nil || cipher == 0 {
		return nil, nil, fmt.Errorf("%w: encrypted message for unknown session %#x", errDrop, th.SessionID)
	}
	keys := sess.getKeys()
	if keys == nil || len(keys.Decryption) == 0 {
		return nil, nil, fmt.Errorf("%w: encrypted message before session keys exist", errDrop)
	}
	plain, _, err := smbcrypto.Decrypt(cipher, keys.Decryption, buf)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: decrypt: %v", errDrop, err)
	}
	return plain, sess, nil
}

// send writes one frame: the responses of a chain (already signed),
// encrypted for sess when enc is set.
func (c *conn) send(msg []byte, enc *session) error {
	if enc != nil {
		keys := enc.getKeys()
		c.mu.Lock()
		cipher := c.cipher
		c.mu.Unlock()
		out, err := smbcrypto.Encrypt(cipher, keys.Encryption, enc.id, enc.nonce(cipher), msg)
		if err != nil {
			return err
		}
		msg = out
	}
	if len(msg) > 1<<24-1 {
		return fmt.Errorf("smb: response of %d bytes does not fit a frame", len(msg))
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var nb [4]byte
	binary.BigEndian.PutUint32(nb[:], uint32(len(msg)))
	c.nc.SetWriteDeadline(time.Now().Add(60 * time.Second))
	if len(msg) >= 64<<10 {
		// Large responses (READ data) go out with one writev, uncopied.
		if err := c.bw.Flush(); err != nil {
			return err
		}
		bufs := net.Buffers{nb[:], msg}
		_, err := bufs.WriteTo(c.nc)
		return err
	}
	c.bw.Write(nb[:])
	c.bw.Write(msg)
	return c.bw.Flush()
}

// teardown closes every open, tree and session of a finished connection,
// releasing their cluster state.
func (c *conn) teardown() {
	c.mu.Lock()
	c.closed = true
	sessions := make([]*session, 0, len(c.sessions))
	for _, s := range c.sessions {
		sessions = append(sessions, s)
	}
	c.sessions = map[uint64]*session{}
	for _, a := range c.asyncs {
		a.cancel()
	}
	c.mu.Unlock()
	for _, s := range sessions {
		if s.dropChannel(c) {
			continue // bound to another connection still (multichannel.go)
		}
		s.logoff(c)
	}
}
