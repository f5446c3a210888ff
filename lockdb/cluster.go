package lockdb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"shoal/lockdb/table"
)

// Owner is implemented by the layer that owns the clients (smbnode) and is
// called by the Cluster.
type Owner interface {
	// Break delivers an oplock or lease break to one of this node's
	// clients (SMB2 OPLOCK_BREAK). It is called from cluster goroutines,
	// possibly concurrently, and must not block for long: send the
	// notification and return. When b.AckRequired, the client's answer
	// comes back through Cluster.AckBreak; the home times the break out
	// after Config.BreakTimeout otherwise.
	Break(ctx context.Context, b table.Break) error
	// Fenced tells the owner this node lost the coordinator for longer
	// than the fence timeout, or missed a generation: every record it owned
	// is gone from the cluster, so it must drop all its SMB clients now.
	// Called from a cluster goroutine, never concurrently with itself.
	Fenced()
}

// Cluster is one node's membership in the lock database. All exported
// methods are safe for concurrent use.
type Cluster struct {
	cfg   Config
	log   *slog.Logger
	owner Owner
	self  Member
	tr    Transport
	ml    Membership
	st    *store
	rl    recLock

	// homeMu is write-held while the generation state of this node's home
	// table changes (freeze, commit), read-held around every table
	// operation, so no decision straddles a generation change.
	homeMu sync.RWMutex

	fenceMu sync.Mutex // serialises Owner.Fenced calls

	mu           sync.Mutex
	gen          uint64   // committed generation, 0 before the first
	nodes        []Member // node map of gen
	coord        Member   // coordinator that committed gen
	frozen       bool
	pend         *pending
	leaseUntil   time.Time
	lastContact  time.Time // when the last accepted lease renewal was sent
	fenced       bool
	epoch        context.Context // cancelled at every state change
	epochCancel  context.CancelFunc
	changed      chan struct{} // closed at every state change
	leased       chan struct{} // closed when the lease becomes valid again
	tbl          *table.Table
	timers       map[uint64]*breakTimer // break seq → timeout, this table's
	owned        map[table.Key]*ownedKey
	early        map[table.Key][]earlyNote // break notices and acks that overtook their grant
	opening      map[table.Key]int         // this node's OpenFile calls under way, per key
	gone         map[Peer]bool
	pulling      bool          // users snapshot pull under way
	wantRecovery uint64        // generation in which a request's outcome was lost
	stalls       int           // renew rounds later than the clock margin (noteStall)
	maxStall     time.Duration // the latest of them

	// coordinator state (meaningful while isCoord)
	isCoord      bool
	coordSince   time.Time
	coordGen     uint64
	renewed      map[string]time.Time
	backoff      map[string]time.Time
	needRecovery bool
	recovering   bool
	attemptNodes []Member // members frozen by the recovery under way
	attemptSeq   uint64

	// dlg: keys delegated by this node as a home, held as a delegate, and
	// requests in flight to homes (delegation.go). Guarded by mu.
	dlg delegState

	// subs maps a Publish topic to its subscriber, a func(from string,
	// payload []byte) (notify.go).
	subs sync.Map

	// dur is the orphaned durable opens' bookkeeping
	// (durablemove_orphan.go), guarded by mu.
	dur durableCustody

	started bool
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	kick    chan struct{}
	renewCh chan struct{}
}

type pending struct {
	gen     uint64
	attempt uint64
	nodes   []Member
	coord   Member
	// poisoned: the node fenced during the attempt, after its reassert
	// may have reached homes; it refuses to commit, so the attempt's homes
	// are rebuilt by another one.
	poisoned bool
}

// New prepares a node from cfg; Start joins the cluster. owner may be nil
// (a node without clients: breaks are dropped, fencing only logged).
func New(cfg Config, owner Owner) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.SharedDir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: cluster.shared_dir %s: %v", ErrConfig, cfg.SharedDir, err)
	}
	log := cfg.logger().With("node", cfg.Node)
	inc := cfg.Incarnation
	if inc == 0 {
		inc = uint64(time.Now().UnixNano())
	}
	c := &Cluster{
		cfg: cfg, log: log, owner: owner,
		rl:      recLock{path: cfg.SharedDir + "/reclock"},
		owned:   make(map[table.Key]*ownedKey),
		early:   make(map[table.Key][]earlyNote),
		opening: make(map[table.Key]int),
		gone:    make(map[Peer]bool),
		timers:  make(map[uint64]*breakTimer),
		renewed: make(map[string]time.Time),
		backoff: make(map[string]time.Time),
		changed: make(chan struct{}),
		leased:  make(chan struct{}),
		kick:    make(chan struct{}, 1),
		renewCh: make(chan struct{}, 1),
		tbl:     table.New(table.Config{Shards: 64, Logger: log}),
	}
	c.dlg.reset()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.epoch, c.epochCancel = context.WithCancel(c.ctx)

	var key []byte
	needKey := cfg.Transport == nil && cfg.RPC != "" || cfg.Membership == nil && !cfg.Single()
	if needKey {
		k, err := LoadOrCreateKey(cfg.keyFile())
		if err != nil {
			return nil, err
		}
		key = k
	}
	c.tr = cfg.Transport
	if c.tr == nil {
		if cfg.RPC != "" {
			t, err := NewTCPTransport(cfg.RPC, key, log)
			if err != nil {
				return nil, err
			}
			c.tr = t
		} else {
			t, _ := NewInmemNetwork().Node("local:" + cfg.Node)
			c.tr = t
		}
	}
	c.ml = cfg.Membership
	if c.ml == nil {
		if cfg.Single() {
			c.ml = &soloMembership{changed: make(chan struct{})}
		} else {
			g, err := NewGossipMembership(cfg.Gossip, cfg.Peers, key, log, false)
			if err != nil {
				c.tr.Close()
				return nil, err
			}
			c.ml = g
		}
	}
	st, err := openStore(cfg.StateDir)
	if err != nil {
		c.tr.Close()
		return nil, err
	}
	c.st = st
	c.self = Member{Name: cfg.Node, Addr: c.tr.Addr(), Incarnation: inc}
	return c, nil
}

// Self is this node as the others see it.
func (c *Cluster) Self() Member { return c.self }

// Start joins the cluster and waits until this node is a member of a
// committed generation, or ctx ends (the node keeps trying in the
// background; requests wait meanwhile).
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started || c.closed {
		c.mu.Unlock()
		return fmt.Errorf("lockdb: Start called twice or after Close")
	}
	c.started = true
	c.mu.Unlock()
	if err := c.tr.Start(c.self.peer(), c.handle, c.peerGone); err != nil {
		return err
	}
	if err := c.ml.Start(c.self); err != nil {
		return err
	}
	c.wg.Add(3)
	go c.coordLoop()
	go c.renewLoop()
	go c.delegLoop()
	for {
		c.mu.Lock()
		ok, ch := c.gen > 0 && !c.frozen, c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("lockdb: waiting for the first generation: %w", ctx.Err())
		}
	}
}

// Close leaves the cluster: it stops granting, closes the transport (peers
// see the connections go and recover at once), releases the recovery lock
// and closes the local store. Pending requests fail with ErrClosed.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.frozen = true
	c.bumpLocked()
	for s, t := range c.timers {
		t.t.Stop()
		delete(c.timers, s)
	}
	c.mu.Unlock()
	c.cancel()
	c.ml.Close()
	err := c.tr.Close()
	c.wg.Wait()
	c.rl.unlock()
	if serr := c.st.close(); err == nil {
		err = serr
	}
	return err
}

// bumpLocked marks a state change: waiters wake, in-flight requests of the
// old state are cancelled. Caller holds c.mu.
func (c *Cluster) bumpLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
	c.epochCancel()
	c.epoch, c.epochCancel = context.WithCancel(c.ctx)
}

// goTracked runs f on a goroutine Close waits for; it reports false (and
// does not run f) once the cluster is closed. Caller holds c.mu.
func (c *Cluster) goTrackedLocked(f func()) bool {
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

// peerGone is the transport's notice that a peer's process died.
func (c *Cluster) peerGone(p Peer) {
	c.mu.Lock()
	c.gone[p] = true
	inMap := false
	for _, n := range c.nodes {
		if n.peer() == p {
			inMap = true
		}
	}
	if c.isCoord && inMap {
		c.needRecovery = true
	}
	c.mu.Unlock()
	c.log.Info("peer process gone", "peer", p.Name, "incarnation", p.Incarnation)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// fenceLocked drops every owned record; the caller then calls
// notifyFenced without holding c.mu. Caller holds c.mu.
func (c *Cluster) fenceLocked(why string) {
	c.log.Warn("fenced: dropping all owned records", "why", why, "records", len(c.owned))
	c.owned = make(map[table.Key]*ownedKey)
	c.early = make(map[table.Key][]earlyNote)
	c.leaseUntil = time.Time{}
	if c.pend != nil {
		c.pend.poisoned = true
	}
	c.st.clearDurable()
}

// notifyFenced tells the owner to drop its clients. It must not be called
// with c.mu held.
func (c *Cluster) notifyFenced() {
	c.fenceMu.Lock()
	defer c.fenceMu.Unlock()
	if c.owner != nil {
		c.owner.Fenced()
	}
}

// handle dispatches one RPC.
func (c *Cluster) handle(ctx context.Context, from Peer, m Message) Message {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return reply(0, nil, ErrClosed)
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	switch m.Kind {
	case kindFreeze:
		return c.handleFreeze(from, m)
	case kindReassert:
		return c.handleReassert(ctx, m)
	case kindImport:
		return c.handleImport(m)
	case kindCommit:
		return c.handleCommit(m)
	case kindRenew:
		return c.handleRenew(from, m)
	case kindOpen, kindClose, kindDeleteOnClose, kindLock, kindUnlock, kindCheckIO, kindAckBreak, kindContend:
		return c.handleKeyReq(ctx, from, m)
	case kindBreak:
		return c.handleBreak(ctx, m)
	case kindRecall:
		return c.handleRecall(ctx, m)
	case kindGiveBack:
		return c.handleGiveBack(ctx, from, m)
	case kindList:
		return c.handleList(m)
	case kindUserWrite:
		return c.handleUserWrite(ctx, m)
	case kindUserApply:
		return c.handleUserApply(m)
	case kindUserSnapshot:
		return c.handleUserSnapshot(m)
	case kindPublish:
		return c.handlePublish(from, m)
	case kindDurable:
		return c.handleDurable(ctx, m)
	}
	return reply(0, nil, fmt.Errorf("%w: unknown RPC kind %d", ErrProtocol, m.Kind))
}

// call sends one request to member n, or runs it locally when n is this
// node (the same handler either way).
func (c *Cluster) call(ctx context.Context, n Member, kind Kind, gen uint64, body any) (Message, error) {
	m := Message{Kind: kind, Gen: gen}
	if body != nil {
		m.Body = encode(body)
	}
	var rep Message
	if n.Name == c.self.Name {
		rep = c.handle(ctx, c.self.peer(), m)
	} else {
		var err error
		rep, err = c.tr.Call(ctx, n.Addr, m)
		if err != nil {
			return rep, err
		}
	}
	return rep, replyErr(rep)
}

func (c *Cluster) callTimeout(n Member, kind Kind, gen uint64, body any) (Message, error) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.RPCTimeout)
	defer cancel()
	return c.call(ctx, n, kind, gen, body)
}

func findMember(nodes []Member, name string) (Member, bool) {
	for _, n := range nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Member{}, false
}

func hasPeer(nodes []Member, p Peer) bool {
	for _, n := range nodes {
		if n.peer() == p {
			return true
		}
	}
	return false
}
