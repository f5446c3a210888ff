package dcerpc

import (
	"context"
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
	outBytes   int          // bytes in out
	broken     error        // framing error that ended the pipe
	closed     bool
	wake       chan struct{} // closed when a message is queued or the pipe closes; nil if nobody waits
}

// Flow control: a client may leave maxPendingOut bytes of answers unread
// before its further PDUs wait, and have maxPendingIn bytes of PDUs waiting
// before writes are refused. A well-behaved client reads every answer
// before sending its next request.
const (
	maxPendingOut = 1 << 20
	maxPendingIn  = 1 << 20
)

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
// split across writes and one write may carry several PDUs; complete PDUs
// are acted on at once and their answers queued for Read. Write consumes
// all of b or returns an error: a PDU whose header cannot be parsed breaks
// the pipe (ErrMalformed, then ErrBroken for every later call). While more
// than maxPendingOut bytes of answers are unread, further PDUs wait in the
// input buffer, and a write that would grow that buffer beyond
// maxPendingIn is refused with ErrBusy.
func (p *Pipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return 0, err
	}
	if len(p.in)+len(b) > maxPendingIn {
		return 0, ErrBusy
	}
	p.in = append(p.in, b...)
	if err := p.process(); err != nil {
		return 0, err
	}
	return len(b), nil
}

// process acts on the complete PDUs in p.in until it runs out of them or
// too many answers are unread.
func (p *Pipe) process() error {
	for p.outBytes <= maxPendingOut {
		n, ok, err := peekFragLength(p.in)
		if err == nil && ok {
			err = p.handlePDU(p.in[:n])
		}
		if err != nil {
			p.broken = err
			p.in, p.call = nil, nil
			return err
		}
		if !ok {
			break
		}
		p.in = p.in[n:]
	}
	if len(p.in) == 0 {
		p.in = nil // release the backing array between PDUs
	}
	return nil
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

// ReadContext is Read that, with nothing queued, waits until a message is
// queued (by a Write from another goroutine), the pipe is closed, or ctx
// is done: the SMB server uses it for a READ it answers asynchronously
// (STATUS_PENDING), and cancels ctx on SMB2 CANCEL.
func (p *Pipe) ReadContext(ctx context.Context, max int) ([]byte, error) {
	if max <= 0 {
		return nil, fmt.Errorf("%w: read of %d bytes", ErrInvalidArgument, max)
	}
	for {
		p.mu.Lock()
		if err := p.usable(); err != nil {
			p.mu.Unlock()
			return nil, err
		}
		if out, more := p.take(max); out != nil {
			p.mu.Unlock()
			if more {
				return out, ErrMoreData
			}
			return out, nil
		}
		if p.wake == nil {
			p.wake = make(chan struct{})
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
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
	// message returned below is then simply the first one queued.
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
	p.in, p.out, p.outBytes, p.call, p.contexts = nil, nil, 0, nil, nil
	p.wakeWaiters()
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
func (p *Pipe) queue(msg []byte) {
	p.out = append(p.out, msg)
	p.outBytes += len(msg)
	p.wakeWaiters()
}

func (p *Pipe) wakeWaiters() {
	if p.wake != nil {
		close(p.wake)
		p.wake = nil
	}
}

// take removes up to max bytes of the first queued message, then lets
// PDUs held back by flow control run.
func (p *Pipe) take(max int) (out []byte, more bool) {
	if len(p.out) == 0 {
		return nil, false
	}
	m := p.out[0]
	if len(m) > max {
		out = append([]byte(nil), m[:max]...)
		p.out[0] = m[max:]
		p.outBytes -= max
		return out, true
	}
	p.out[0] = nil
	p.out = p.out[1:]
	p.outBytes -= len(m)
	if len(p.out) == 0 {
		p.out = nil
	}
	if len(p.in) > 0 && p.outBytes <= maxPendingOut {
		// A framing error found now is reported by the next call.
		_ = p.process()
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
