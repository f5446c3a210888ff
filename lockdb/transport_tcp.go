package lockdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"shoal/lockdb/internal/secconn"
	"shoal/lockdb/internal/wire"
)

// TCPTransport is the production Transport: one persistent, multiplexed,
// authenticated and encrypted TCP connection per peer and direction.
type TCPTransport struct {
	ln     net.Listener
	key    []byte
	log    *slog.Logger
	dialTO time.Duration

	mu      sync.Mutex
	self    secconn.Identity
	handler Handler
	gone    func(Peer)
	conns   map[string]*tcpClientConn // by addr
	dialing map[string]*sync.Mutex
	served  map[*secconn.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

var _ Transport = (*TCPTransport)(nil)

// NewTCPTransport listens on addr ("host:0" picks a port). key is the
// cluster key.
func NewTCPTransport(addr string, key []byte, logger *slog.Logger) (*TCPTransport, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lockdb: rpc listen %s: %w", addr, err)
	}
	return &TCPTransport{
		ln: ln, key: key, log: logger, dialTO: 2 * time.Second,
		conns:   make(map[string]*tcpClientConn),
		dialing: make(map[string]*sync.Mutex),
		served:  make(map[*secconn.Conn]struct{}),
	}, nil
}

// Addr returns the listening address.
func (t *TCPTransport) Addr() string { return t.ln.Addr().String() }

// Start implements Transport.
func (t *TCPTransport) Start(self Peer, h Handler, gone func(Peer)) error {
	t.mu.Lock()
	t.self = secconn.Identity{Name: self.Name, Incarnation: self.Incarnation}
	t.handler, t.gone = h, gone
	t.mu.Unlock()
	t.wg.Add(1)
	go t.acceptLoop()
	return nil
}

// Close implements Transport.
func (t *TCPTransport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	conns := t.conns
	t.conns = map[string]*tcpClientConn{}
	for sc := range t.served {
		sc.Close()
	}
	t.mu.Unlock()
	err := t.ln.Close()
	for _, c := range conns {
		c.sc.Close()
	}
	t.wg.Wait()
	return err
}

// peerClosed reports whether a read error means the other side's process
// closed the connection (EOF or reset), as opposed to our own Close.
func peerClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (t *TCPTransport) notifyGone(id secconn.Identity) {
	t.mu.Lock()
	gone, closed := t.gone, t.closed
	t.mu.Unlock()
	if gone != nil && !closed {
		gone(Peer{Name: id.Name, Incarnation: id.Incarnation})
	}
}

func (t *TCPTransport) acceptLoop() {
	defer t.wg.Done()
	for {
		nc, err := t.ln.Accept()
		if err != nil {
			return
		}
		t.wg.Add(1)
		go t.serveConn(nc)
	}
}

func (t *TCPTransport) serveConn(nc net.Conn) {
	defer t.wg.Done()
	t.mu.Lock()
	self := t.self
	t.mu.Unlock()
	sc, err := secconn.Server(nc, t.key, self)
	if err != nil {
		t.log.Warn("rpc: rejected connection", "remote", nc.RemoteAddr().String(), "err", err)
		return
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		sc.Close()
		return
	}
	t.served[sc] = struct{}{}
	h := t.handler
	t.mu.Unlock()
	peer := sc.Peer()
	from := Peer{Name: peer.Name, Incarnation: peer.Incarnation}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}

	var (
		wmu     sync.Mutex
		cmu     sync.Mutex
		cancels = make(map[uint64]context.CancelFunc)
		hwg     sync.WaitGroup
	)
	ctx, cancelAll := context.WithCancel(context.Background())
	defer func() {
		cancelAll()
		sc.Close()
		t.mu.Lock()
		delete(t.served, sc)
		t.mu.Unlock()
	}()
	for {
		rec, err := sc.ReadRecord()
		if err != nil {
			if peerClosed(err) {
				t.notifyGone(peer)
			}
			return
		}
		f, err := wire.Parse(rec)
		if err != nil {
			t.log.Warn("rpc: bad frame", "peer", peer.Name, "err", err)
			sendAbort(sc, &wmu)
			return
		}
		switch f.Type {
		case wire.TypeAbort:
			return // the peer is alive and dropped this connection
		case wire.TypeCancel:
			cmu.Lock()
			if c := cancels[f.ID]; c != nil {
				c()
			}
			cmu.Unlock()
		case wire.TypeRequest:
			req := Message{Kind: Kind(f.Kind), Gen: f.Gen, Body: append([]byte(nil), f.Body...)}
			hctx, cancel := context.WithCancel(ctx)
			cmu.Lock()
			cancels[f.ID] = cancel
			cmu.Unlock()
			hwg.Add(1)
			go func(id uint64) {
				defer hwg.Done()
				rep := h(hctx, from, req)
				cmu.Lock()
				delete(cancels, id)
				cmu.Unlock()
				cancel()
				out := wire.Frame{Type: wire.TypeReply, ID: id, Kind: uint8(rep.Kind), Gen: rep.Gen, Err: rep.Code, ErrText: rep.Text, Body: rep.Body}
				b := out.Append(make([]byte, 0, 64+len(rep.Body)))
				wmu.Lock()
				sc.WriteRecord(b)
				wmu.Unlock()
			}(f.ID)
		default:
			t.log.Warn("rpc: unexpected frame type", "peer", peer.Name, "type", f.Type)
			sendAbort(sc, &wmu)
			return
		}
	}
}

// cancelGrace is how long Call waits for the answer to a cancelled request.
const cancelGrace = 500 * time.Millisecond

type tcpReply struct {
	m   Message
	err error
}

type tcpClientConn struct {
	t    *TCPTransport
	addr string
	sc   *secconn.Conn

	wmu sync.Mutex

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan tcpReply
	dead    error
}

func (t *TCPTransport) conn(ctx context.Context, addr string) (*tcpClientConn, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, ErrClosed
	}
	if c := t.conns[addr]; c != nil {
		t.mu.Unlock()
		return c, nil
	}
	dm := t.dialing[addr]
	if dm == nil {
		dm = new(sync.Mutex)
		t.dialing[addr] = dm
	}
	self := t.self
	t.mu.Unlock()

	dm.Lock()
	defer dm.Unlock()
	t.mu.Lock()
	if c := t.conns[addr]; c != nil {
		t.mu.Unlock()
		return c, nil
	}
	t.mu.Unlock()
	d := net.Dialer{Timeout: t.dialTO}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %v", ErrUnreachable, addr, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	sc, err := secconn.Client(nc, t.key, self)
	if err != nil {
		if errors.Is(err, secconn.ErrAuth) {
			return nil, fmt.Errorf("%w: %s: %v", ErrAuth, addr, err)
		}
		return nil, fmt.Errorf("%w: handshake %s: %v", ErrUnreachable, addr, err)
	}
	c := &tcpClientConn{t: t, addr: addr, sc: sc, pending: make(map[uint64]chan tcpReply)}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		sc.Close()
		return nil, ErrClosed
	}
	t.conns[addr] = c
	t.wg.Add(1)
	t.mu.Unlock()
	go c.readLoop()
	return c, nil
}

func (c *tcpClientConn) readLoop() {
	defer c.t.wg.Done()
	var err error
	for {
		var rec []byte
		rec, err = c.sc.ReadRecord()
		if err != nil {
			break
		}
		var f wire.Frame
		f, err = wire.Parse(rec)
		if err == nil && f.Type == wire.TypeAbort {
			err = fmt.Errorf("%w: peer dropped the connection", ErrProtocol)
			break
		}
		if err != nil || f.Type != wire.TypeReply {
			err = fmt.Errorf("%w: %v (type %d)", ErrProtocol, err, f.Type)
			sendAbort(c.sc, &c.wmu)
			break
		}
		c.mu.Lock()
		ch := c.pending[f.ID]
		delete(c.pending, f.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- tcpReply{m: Message{Kind: Kind(f.Kind), Gen: f.Gen, Code: f.Err, Text: f.ErrText, Body: append([]byte(nil), f.Body...)}}
		}
	}
	c.fail(err)
	if peerClosed(err) {
		c.t.notifyGone(c.sc.Peer())
	}
}

// fail marks the connection dead, fails its pending calls and forgets it.
func (c *tcpClientConn) fail(err error) {
	c.sc.Close()
	c.mu.Lock()
	if c.dead == nil {
		c.dead = fmt.Errorf("%w: %s: %v", ErrUnreachable, c.addr, err)
	}
	for id, ch := range c.pending {
		ch <- tcpReply{err: c.dead}
		delete(c.pending, id)
	}
	c.mu.Unlock()
	c.t.mu.Lock()
	if c.t.conns[c.addr] == c {
		delete(c.t.conns, c.addr)
	}
	c.t.mu.Unlock()
}

// sendAbort tells the peer we drop the connection while alive, so it does
// not take the close for our process's death.
func sendAbort(sc *secconn.Conn, wmu *sync.Mutex) {
	f := wire.Frame{Type: wire.TypeAbort}
	wmu.Lock()
	sc.NetConn().SetWriteDeadline(time.Now().Add(time.Second))
	sc.WriteRecord(f.Append(nil))
	wmu.Unlock()
}

// Call implements Transport.
func (t *TCPTransport) Call(ctx context.Context, addr string, req Message) (Message, error) {
	c, err := t.conn(ctx, addr)
	if err != nil {
		return Message{}, err
	}
	ch := make(chan tcpReply, 1)
	c.mu.Lock()
	if c.dead != nil {
		err := c.dead
		c.mu.Unlock()
		return Message{}, err
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	f := wire.Frame{Type: wire.TypeRequest, ID: id, Kind: uint8(req.Kind), Gen: req.Gen, Body: req.Body}
	b := f.Append(make([]byte, 0, 64+len(req.Body)))
	c.wmu.Lock()
	err = c.sc.WriteRecord(b)
	c.wmu.Unlock()
	if err != nil {
		c.fail(err)
		return Message{}, fmt.Errorf("%w: write %s: %v", ErrUnreachable, addr, err)
	}
	select {
	case r := <-ch:
		return r.m, r.err
	case <-ctx.Done():
		// Tell the peer, then give its handler a moment to answer: a
		// request it completed anyway (a lock granted just before the
		// cancel arrived) must not be lost.
		cf := wire.Frame{Type: wire.TypeCancel, ID: id}
		c.wmu.Lock()
		c.sc.WriteRecord(cf.Append(nil))
		c.wmu.Unlock()
		t := time.NewTimer(cancelGrace)
		defer t.Stop()
		select {
		case r := <-ch:
			if r.err == nil && r.m.Code == 0 {
				return r.m, nil
			}
		case <-t.C:
		}
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return Message{}, ctx.Err()
	}
}
