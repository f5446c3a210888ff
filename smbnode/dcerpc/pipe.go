package dcerpc

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
)

// Pipe is one open of a named pipe: the DCE/RPC association behind one
// SMB2 file handle on IPC$. Its methods are safe for concurrent use; each
// returns without blocking. Byte slices passed in are not retained; slices
// returned belong to the caller.
type Pipe struct {
	name    string // canonical, e.g. "srvsvc"
	user    string
	backend Backend
	iface   *iface

	mu         sync.Mutex
	bound      bool
	fragSize   int    // negotiated max fragment size, both directions
	assocGroup uint32 // association group id reported in BIND_ACK
	contexts   map[uint16]*iface
	in         []byte       // client bytes not yet forming a complete PDU
	call       *pendingCall // request whose fragments are still arriving
	out        [][]byte     // queued messages; out[0] may be partly read
	broken     error        // framing error that ended the pipe
	closed     bool
}

// maxPendingOut bounds the bytes a client may leave unread before further
// writes are refused; a well-behaved client reads every response.
const maxPendingOut = 1 << 20

// NewPipe opens the named pipe name (see IsKnownPipe) for user, an
// authenticated SMB session's account name, answering from b.
func NewPipe(name string, user string, b Backend) (*Pipe, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: nil Backend", ErrInvalidArgument)
	}
	n := canonicalPipeName(name)
	ifc, ok := pipeInterfaces[n]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPipe, name)
	}
	return &Pipe{
		name:     n,
		user:     user,
		backend:  b,
		iface:    ifc,
		fragSize: maxFragSize,
		contexts: make(map[uint16]*iface),
	}, nil
}

// Name returns the canonical pipe name, e.g. "srvsvc".
func (p *Pipe) Name() string { return p.name }

// Write takes bytes the client wrote to the pipe (SMB2 WRITE). A PDU may be
// split across writes and one write may carry several PDUs; each complete
// PDU is acted on at once and its answer queued for Read. Write consumes
// all of b or returns an error: a PDU whose header cannot be parsed breaks
// the pipe (ErrMalformed, then ErrBroken for every later call).
func (p *Pipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return 0, err
	}
	if p.pendingOut() > maxPendingOut {
		return 0, ErrBusy
	}
	p.in = append(p.in, b...)
	for {
		n, ok, err := peekFragLength(p.in)
		if err != nil {
			p.broken = err
			p.in = nil
			return 0, err
		}
		if !ok {
			break
		}
		pdu := p.in[:n]
		if err := p.handlePDU(pdu); err != nil {
			p.broken = err
			p.in = nil
			return 0, err
		}
		p.in = p.in[n:]
	}
	if len(p.in) == 0 {
		p.in = nil // release the backing array between PDUs
	}
	return len(b), nil
}

// Read returns the next queued message (one PDU), at most max bytes of it.
// When the message is longer, Read returns its first max bytes together
// with ErrMoreData and keeps the rest for the next Read. With nothing
// queued it returns ErrNoData.
func (p *Pipe) Read(max int) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return nil, err
	}
	if max <= 0 {
		return nil, fmt.Errorf("%w: read of %d bytes", ErrInvalidArgument, max)
	}
	out, more := p.take(max)
	if out == nil {
		return nil, ErrNoData
	}
	if more {
		return out, ErrMoreData
	}
	return out, nil
}

// Transceive writes in and returns the first queued response message,
// as FSCTL_PIPE_TRANSCEIVE does. more is true when the message did not fit
// in max; the rest, and any further fragments of the response, are read
// with Read. It returns ErrBusy, writing nothing, while earlier responses
// are unread, and ErrNoData when in produced no response.
func (p *Pipe) Transceive(in []byte, max int) (out []byte, more bool, err error) {
	if max <= 0 {
		return nil, false, fmt.Errorf("%w: transceive read of %d bytes", ErrInvalidArgument, max)
	}
	p.mu.Lock()
	busy := len(p.out) > 0
	p.mu.Unlock()
	if busy {
		return nil, false, ErrBusy
	}
	// Another goroutine may write between the check and the write; the
	// response read below is then whichever comes first, as on Windows.
	if _, err := p.Write(in); err != nil {
		return nil, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return nil, false, err
	}
	out, more = p.take(max)
	if out == nil {
		return nil, false, ErrNoData
	}
	return out, more, nil
}

// Close ends the association; later calls return ErrClosed. Close is
// idempotent.
func (p *Pipe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.in, p.out, p.call, p.contexts = nil, nil, nil, nil
	return nil
}

func (p *Pipe) usable() error {
	if p.closed {
		return ErrClosed
	}
	if p.broken != nil {
		return fmt.Errorf("%w: %w", ErrBroken, p.broken)
	}
	return nil
}

// queue appends one response message.
func (p *Pipe) queue(msg []byte) { p.out = append(p.out, msg) }

func (p *Pipe) pendingOut() int {
	n := 0
	for _, m := range p.out {
		n += len(m)
	}
	return n
}

// take removes up to max bytes of the first queued message.
func (p *Pipe) take(max int) (out []byte, more bool) {
	if len(p.out) == 0 {
		return nil, false
	}
	m := p.out[0]
	if len(m) > max {
		out = append([]byte(nil), m[:max]...)
		p.out[0] = m[max:]
		return out, true
	}
	p.out[0] = nil
	p.out = p.out[1:]
	if len(p.out) == 0 {
		p.out = nil
	}
	return m, false
}

var assocGroupCounter atomic.Uint32

func init() {
	var b [4]byte
	_, _ = rand.Read(b[:])
	assocGroupCounter.Store(binary.LittleEndian.Uint32(b[:]) & 0x00ffffff)
}

// newAssocGroup returns a fresh non-zero association group id.
func newAssocGroup() uint32 {
	for {
		if id := assocGroupCounter.Add(1); id != 0 {
			return id
		}
	}
}
