package lockdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// InmemNetwork connects in-process nodes for tests, in the style of
// hashicorp/raft's InmemTransport: every node gets a Transport and a
// Membership from Node, and the test can Disconnect, Partition, Isolate,
// Heal, delay and drop. Killing a node (closing its transport) tells its
// connected peers the process is gone, as a TCP reset would; a partition
// does not. All methods are safe for concurrent use.
type InmemNetwork struct {
	mu      sync.Mutex
	nodes   map[string]*inmemNode // by addr
	cut     map[[2]string]bool    // unordered addr pairs that cannot talk
	delay   time.Duration
	jitter  time.Duration
	drop    float64
	members map[*inmemMembership]struct{}
	onReply func(from, to string, req Message)
}

// NewInmemNetwork returns an empty network.
func NewInmemNetwork() *InmemNetwork {
	return &InmemNetwork{
		nodes:   make(map[string]*inmemNode),
		cut:     make(map[[2]string]bool),
		members: make(map[*inmemMembership]struct{}),
	}
}

type inmemNode struct {
	n       *InmemNetwork
	addr    string
	self    Peer
	handler Handler
	gone    func(Peer)
	started bool
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
	member  *Member
}

func pair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// Node returns the transport and membership of a new node reachable at addr.
func (n *InmemNetwork) Node(addr string) (Transport, Membership) {
	ctx, cancel := context.WithCancel(context.Background())
	nd := &inmemNode{n: n, addr: addr, ctx: ctx, cancel: cancel}
	return &InmemTransport{nd: nd}, &inmemMembership{nd: nd, changed: make(chan struct{}, 1)}
}

func (n *InmemNetwork) connectedLocked(a, b string) bool {
	return a == b || !n.cut[pair(a, b)]
}

func (n *InmemNetwork) signalLocked() {
	for m := range n.members {
		select {
		case m.changed <- struct{}{}:
		default:
		}
	}
}

// Disconnect cuts the link between two addresses (both directions).
func (n *InmemNetwork) Disconnect(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[pair(a, b)] = true
	n.signalLocked()
}

// Connect restores the link between two addresses.
func (n *InmemNetwork) Connect(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.cut, pair(a, b))
	n.signalLocked()
}

// Partition splits the given addresses into groups that can only talk
// within themselves. Addresses not listed keep their links.
func (n *InmemNetwork) Partition(groups ...[]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, g := range groups {
		for j, h := range groups {
			if i == j {
				continue
			}
			for _, a := range g {
				for _, b := range h {
					n.cut[pair(a, b)] = true
				}
			}
		}
	}
	n.signalLocked()
}

// Isolate cuts addr from every other address known now or later added by
// Partition; it is undone by Heal.
func (n *InmemNetwork) Isolate(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for a := range n.nodes {
		if a != addr {
			n.cut[pair(a, addr)] = true
		}
	}
	n.signalLocked()
}

// Heal removes every cut.
func (n *InmemNetwork) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = make(map[[2]string]bool)
	n.signalLocked()
}

// SetDelay makes every call wait d plus up to jitter before delivery.
func (n *InmemNetwork) SetDelay(d, jitter time.Duration) {
	n.mu.Lock()
	n.delay, n.jitter = d, jitter
	n.mu.Unlock()
}

// SetDrop makes each request vanish with probability p: the caller hears
// nothing until its context ends, as with a lost packet on a dead link.
func (n *InmemNetwork) SetDrop(p float64) {
	n.mu.Lock()
	n.drop = p
	n.mu.Unlock()
}

// SetReplyHook makes every call run f(caller address, callee address,
// request) after the callee's handler answered and before the answer
// travels back; f may block, holding that answer in flight (a test's
// handle on "the home acted, the requester has not heard yet"). Nil
// removes the hook.
func (n *InmemNetwork) SetReplyHook(f func(from, to string, req Message)) {
	n.mu.Lock()
	n.onReply = f
	n.mu.Unlock()
}

// InmemTransport is one node's end of an InmemNetwork.
type InmemTransport struct{ nd *inmemNode }

var _ Transport = (*InmemTransport)(nil)

// Addr implements Transport.
func (t *InmemTransport) Addr() string { return t.nd.addr }

// Start implements Transport.
func (t *InmemTransport) Start(self Peer, h Handler, gone func(Peer)) error {
	n := t.nd.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if old := n.nodes[t.nd.addr]; old != nil && !old.closed {
		return fmt.Errorf("lockdb: inmem address %s in use", t.nd.addr)
	}
	t.nd.self, t.nd.handler, t.nd.gone, t.nd.started = self, h, gone, true
	n.nodes[t.nd.addr] = t.nd
	n.signalLocked()
	return nil
}

// Close implements Transport: the node's process is gone. Connected peers
// are told (like a TCP reset), and its running handlers are cancelled.
func (t *InmemTransport) Close() error {
	n := t.nd.n
	n.mu.Lock()
	if t.nd.closed {
		n.mu.Unlock()
		return nil
	}
	t.nd.closed = true
	if n.nodes[t.nd.addr] == t.nd {
		delete(n.nodes, t.nd.addr)
	}
	var notify []*inmemNode
	if t.nd.started {
		for _, o := range n.nodes {
			if o.started && !o.closed && n.connectedLocked(o.addr, t.nd.addr) {
				notify = append(notify, o)
			}
		}
	}
	n.signalLocked()
	n.mu.Unlock()
	t.nd.cancel()
	for _, o := range notify {
		o.gone(t.nd.self)
	}
	return nil
}

// Call implements Transport.
func (t *InmemTransport) Call(ctx context.Context, addr string, req Message) (Message, error) {
	n := t.nd.n
	n.mu.Lock()
	if t.nd.closed {
		n.mu.Unlock()
		return Message{}, ErrClosed
	}
	dst := n.nodes[addr]
	ok := dst != nil && dst.started && !dst.closed && n.connectedLocked(t.nd.addr, addr)
	delay := n.delay
	if n.jitter > 0 {
		delay += rand.N(n.jitter)
	}
	drop := n.drop > 0 && rand.Float64() < n.drop
	cut := dst != nil && !n.connectedLocked(t.nd.addr, addr)
	n.mu.Unlock()
	if !ok && !cut {
		// Nobody listens there: connection refused.
		return Message{}, fmt.Errorf("%w: %s: connection refused", ErrUnreachable, addr)
	}
	if cut || drop {
		// A partition looks like silence, not an error.
		<-ctx.Done()
		return Message{}, ctx.Err()
	}
	if delay > 0 {
		tm := time.NewTimer(delay)
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return Message{}, ctx.Err()
		}
	}
	// Run the handler in the destination's context so that killing it
	// cancels the handler, and in the caller's so that cancelling the call
	// reaches the handler (as a cancel frame would).
	hctx, cancel := context.WithCancel(dst.ctx)
	stop := context.AfterFunc(ctx, cancel)
	defer func() { stop(); cancel() }()
	body := append([]byte(nil), req.Body...)
	req.Body = body
	rep := dst.handler(hctx, t.nd.self, req)
	rep.Body = append([]byte(nil), rep.Body...)
	n.mu.Lock()
	hook := n.onReply
	n.mu.Unlock()
	if hook != nil {
		hook(t.nd.addr, addr, req)
	}
	n.mu.Lock()
	alive := !dst.closed && !t.nd.closed && n.connectedLocked(t.nd.addr, addr)
	n.mu.Unlock()
	if !alive {
		if ctx.Err() != nil {
			return Message{}, ctx.Err()
		}
		return Message{}, fmt.Errorf("%w: %s: lost while waiting for the reply", ErrUnreachable, addr)
	}
	return rep, nil
}

type inmemMembership struct {
	nd      *inmemNode
	changed chan struct{}
}

func (m *inmemMembership) Start(self Member) error {
	n := m.nd.n
	n.mu.Lock()
	defer n.mu.Unlock()
	m.nd.member = &self
	n.members[m] = struct{}{}
	n.signalLocked()
	return nil
}

// Members: every started, open node this one can reach (gossip would
// converge to exactly that).
func (m *inmemMembership) Members() []Member {
	n := m.nd.n
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []Member
	for _, o := range n.nodes {
		if o.member != nil && !o.closed && n.connectedLocked(o.addr, m.nd.addr) {
			out = append(out, *o.member)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (m *inmemMembership) Changed() <-chan struct{} { return m.changed }

func (m *inmemMembership) Close() error {
	n := m.nd.n
	n.mu.Lock()
	delete(n.members, m)
	n.mu.Unlock()
	return nil
}
