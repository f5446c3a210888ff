package lockdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"shoal/lockdb/table"
)

// fastConfig is TestConfig scaled down further for the in-memory harness,
// where a round trip costs microseconds. The fence timeout is close to its
// floor (lease + 2 × rpc_timeout), since every partition in the randomized
// schedules waits it out; the clock margin is production's, because three
// nodes under -race on a loaded two-core machine stall by more than 50 ms
// (see noteStall).
func fastConfig(node, stateDir, sharedDir string) Config {
	c := TestConfig(node, stateDir, sharedDir)
	c.LeaseDuration = 150 * time.Millisecond
	c.HeartbeatInterval = 40 * time.Millisecond
	c.ReclockInterval = 20 * time.Millisecond
	c.FenceTimeout = 420 * time.Millisecond
	c.RPCTimeout = 120 * time.Millisecond
	c.BreakTimeout = 300 * time.Millisecond
	c.ClockMargin = 100 * time.Millisecond
	// Short enough that keys move back and forth within a test.
	c.DelegationHysteresis = 50 * time.Millisecond
	c.DelegationIdle = 2 * time.Second
	return c
}

// testOwner is a stand-in SMB layer: it counts fences, and acks breaks
// (to the break's target) unless told to stay silent.
type testOwner struct {
	mu      sync.Mutex
	c       *Cluster
	silent  bool
	breaks  []table.Break
	fenced  int
	onFence func()
	wg      sync.WaitGroup
	stopped bool
}

func (o *testOwner) Break(ctx context.Context, b table.Break) error {
	o.mu.Lock()
	o.breaks = append(o.breaks, b)
	c, silent := o.c, o.silent || o.stopped
	if !silent && b.AckRequired {
		o.wg.Add(1)
	}
	o.mu.Unlock()
	if silent || !b.AckRequired || c == nil {
		return nil
	}
	go func() {
		defer o.wg.Done()
		ack := table.BreakAck{Open: b.Open, Oplock: b.OplockTo, Lease: b.Lease, ClientGUID: b.ClientGUID, LeaseKey: b.LeaseKey, LeaseState: b.LeaseTo}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c.AckBreak(ctx, b.Key, ack)
	}()
	return nil
}

func (o *testOwner) Fenced() {
	o.mu.Lock()
	o.fenced++
	f := o.onFence
	o.mu.Unlock()
	if f != nil {
		f()
	}
}

func (o *testOwner) stop() {
	o.mu.Lock()
	o.stopped = true
	o.mu.Unlock()
	o.wg.Wait()
}

type hnode struct {
	name  string
	addr  string
	dir   string
	c     *Cluster
	owner *testOwner
	inc   uint64
}

// harness is an in-process cluster on an InmemNetwork sharing one
// "cluster filesystem" directory, in the style of raft's MakeCluster.
type harness struct {
	t      testing.TB
	net    *InmemNetwork
	shared string
	cfg    func(node, state, shared string) Config
	mu     sync.Mutex
	nodes  map[string]*hnode
	order  []string
	inc    uint64
	log    *slog.Logger
}

// ringLog keeps the last lines of every node's log, dumped when a
// randomized schedule fails, and every line that contains watch.
type ringLog struct {
	mu      sync.Mutex
	lines   []string
	watch   string
	watched []string
}

func (r *ringLog) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, string(p))
	if r.watch != "" && strings.Contains(string(p), r.watch) {
		r.watched = append(r.watched, string(p))
	}
	if len(r.lines) > 4000 {
		r.lines = append([]string(nil), r.lines[2000:]...)
	}
	return len(p), nil
}

// seen returns the watched lines logged so far.
func (r *ringLog) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.watched...)
}

func (r *ringLog) dump(t testing.TB) {
	r.mu.Lock()
	defer r.mu.Unlock()
	from := max(0, len(r.lines)-800)
	for _, l := range r.lines[from:] {
		t.Log(l)
	}
}

type tbWriter struct{ t testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func newHarness(t testing.TB, n int) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, net: NewInmemNetwork(), shared: filepath.Join(dir, "shared"), cfg: fastConfig, nodes: make(map[string]*hnode)}
	if os.Getenv("SHOAL_LOCKDB_LOG") != "" {
		h.log = slog.New(slog.NewTextHandler(tbWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("n%d", i)
		h.nodes[name] = &hnode{name: name, addr: "mem:" + name, dir: filepath.Join(dir, name)}
		h.order = append(h.order, name)
	}
	t.Cleanup(h.closeAll)
	return h
}

// start (re)starts a node with a new incarnation; it does not wait for a
// generation.
func (h *harness) start(name string) *Cluster {
	h.t.Helper()
	h.mu.Lock()
	nd := h.nodes[name]
	h.inc++
	inc := h.inc
	h.mu.Unlock()
	if nd.c != nil {
		h.t.Fatalf("start %s: already running", name)
	}
	tr, ml := h.net.Node(nd.addr)
	cfg := h.cfg(name, nd.dir, h.shared)
	cfg.Transport, cfg.Membership, cfg.Incarnation, cfg.Logger = tr, ml, inc, h.log
	owner := &testOwner{}
	c, err := New(cfg, owner)
	if err != nil {
		h.t.Fatalf("New %s: %v", name, err)
	}
	owner.c = c
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	cancel()
	c.Start(ctx) // returns at once; the node joins in the background
	h.mu.Lock()
	nd.c, nd.owner, nd.inc = c, owner, inc
	h.mu.Unlock()
	return c
}

// kill stops a node's process: its connections reset, its state is gone
// (only the bbolt file in its state dir remains).
func (h *harness) kill(name string) {
	h.mu.Lock()
	nd := h.nodes[name]
	c, o := nd.c, nd.owner
	nd.c, nd.owner = nil, nil
	h.mu.Unlock()
	if c == nil {
		return
	}
	o.stop()
	if err := c.Close(); err != nil {
		h.t.Errorf("close %s: %v", name, err)
	}
}

func (h *harness) closeAll() {
	for _, n := range h.order {
		h.kill(n)
	}
}

func (h *harness) node(name string) *Cluster {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nodes[name].c
}

func (h *harness) live() []*Cluster {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*Cluster
	for _, n := range h.order {
		if c := h.nodes[n].c; c != nil {
			out = append(out, c)
		}
	}
	return out
}

// coordinator returns the name of the node holding the recovery lock.
func (h *harness) coordinator() string {
	for _, c := range h.live() {
		c.mu.Lock()
		is := c.isCoord
		c.mu.Unlock()
		if is {
			return c.self.Name
		}
	}
	return ""
}

// waitStable waits until every live node is thawed in one generation
// whose map is exactly the live nodes, with valid leases.
func (h *harness) waitStable(timeout time.Duration) uint64 {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		gen, why := h.stable()
		if why == "" {
			return gen
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("cluster not stable after %v: %s", timeout, why)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) stable() (uint64, string) {
	live := h.live()
	if len(live) == 0 {
		return 0, "no live node"
	}
	var want []string
	for _, c := range live {
		want = append(want, c.self.Name)
	}
	sort.Strings(want)
	var gen uint64
	for i, c := range live {
		c.mu.Lock()
		g, frozen, lease, nodes := c.gen, c.frozen, c.leaseValidLocked(), names(c.nodes)
		c.mu.Unlock()
		sort.Strings(nodes)
		if i == 0 {
			gen = g
		}
		switch {
		case g == 0 || frozen || !lease:
			return 0, fmt.Sprintf("%s: gen %d frozen %v lease %v", c.self.Name, g, frozen, lease)
		case g != gen:
			return 0, fmt.Sprintf("%s: gen %d, others %d", c.self.Name, g, gen)
		case fmt.Sprint(nodes) != fmt.Sprint(want):
			return 0, fmt.Sprintf("%s: map %v, live %v", c.self.Name, nodes, want)
		}
	}
	return gen, ""
}

// checkHomes verifies the invariant across every home of the newest
// generation: each table is consistent, no key is homed twice, every key
// sits at its rendezvous home or at the delegate its home names (and that
// delegate holds the delegation), and merging all homes' records into one
// table finds no conflicting grants.
func (h *harness) checkHomes() error {
	live := h.live()
	var maxGen uint64
	for _, c := range live {
		c.mu.Lock()
		if c.gen > maxGen {
			maxGen = c.gen
		}
		c.mu.Unlock()
	}
	// One atomic snapshot of every node (all locks held), so a recall or
	// grant cannot fall between two nodes' pictures.
	type snap struct {
		name  string
		nodes []Member
		recs  []table.Record
		err   error
		out   map[table.Key]string
		held  []table.Key
	}
	var snaps []snap
	for _, c := range live {
		c.homeMu.Lock()
		c.mu.Lock()
	}
	// The delegate and its home are compared only when every node is
	// thawed in one generation: a freeze drops the home's marks first.
	uniform := true
	for _, c := range live {
		if c.gen != maxGen || c.frozen {
			uniform = false
			continue
		}
		sn := snap{name: c.self.Name, nodes: c.nodes, out: map[table.Key]string{}}
		sn.err = c.tbl.CheckInvariant()
		sn.recs = c.tbl.Export(nil)
		for k, d := range c.dlg.out {
			sn.out[k] = d.to
		}
		for k := range c.dlg.held {
			sn.held = append(sn.held, k)
		}
		snaps = append(snaps, sn)
	}
	for _, c := range live {
		c.mu.Unlock()
		c.homeMu.Unlock()
	}
	seen := make(map[table.Key]string)
	merged := table.New(table.DefaultConfig())
	var all []table.Record
	out := make(map[table.Key]string)  // key → delegate, as its home says
	held := make(map[table.Key]string) // key → delegate, as the delegate says
	at := make(map[table.Key]string)   // key → delegate whose table has it
	for _, sn := range snaps {
		maps.Copy(out, sn.out)
		for _, k := range sn.held {
			if o, dup := held[k]; dup {
				return fmt.Errorf("gen %d: key %v delegated to %s and %s", maxGen, k, o, sn.name)
			}
			held[k] = sn.name
		}
	}
	for _, sn := range snaps {
		if sn.err != nil {
			return fmt.Errorf("home %s gen %d: %w", sn.name, maxGen, sn.err)
		}
		for _, r := range sn.recs {
			if o, dup := seen[r.Key]; dup && o != sn.name {
				return fmt.Errorf("gen %d: key %v homed on %s and %s", maxGen, r.Key, o, sn.name)
			}
			seen[r.Key] = sn.name
			if hm := homeOf(r.Key, sn.nodes); hm.Name != sn.name {
				at[r.Key] = sn.name
				if held[r.Key] != sn.name {
					return fmt.Errorf("gen %d: key %v on %s, home is %s", maxGen, r.Key, sn.name, hm.Name)
				}
			}
		}
		all = append(all, sn.recs...)
	}
	if !uniform {
		at, held = nil, nil
	}
	for k, n := range at {
		if out[k] != n {
			return fmt.Errorf("gen %d: key %v decided by %s, its home says %q", maxGen, k, n, out[k])
		}
	}
	for k, n := range held {
		// A recall may be between the delegate and the home: then the
		// home still names it (and waits), or the delegate no longer holds
		// it. A key held without the home's mark is a second decider.
		if o, ok := out[k]; !ok || o != n {
			return fmt.Errorf("gen %d: %s holds key %v, its home names %q", maxGen, n, k, out[k])
		}
	}
	byKey := make(map[table.Key][]table.Record)
	for _, r := range all {
		byKey[r.Key] = append(byKey[r.Key], r)
	}
	for k, recs := range byKey {
		for i := range recs {
			recs[i].Breaking = false // merge check is about grants
		}
		if err := merged.Import(recs); err != nil {
			return fmt.Errorf("gen %d: key %v: %w", maxGen, k, err)
		}
	}
	return nil
}

// errNotStable means a recovery started while a check was taking its
// snapshot; the check is retried.
var errNotStable = errors.New("cluster changed during the check")

// checkOwnedMatchesHomes verifies, on a stable cluster, that the homes
// hold exactly the records the live owners hold: nothing of a dead node,
// nothing lost of a live one. The snapshot is atomic across nodes: every
// node's home and state locks are held while it is taken, and every node
// must be thawed in one generation (else errNotStable).
func (h *harness) checkOwnedMatchesHomes() error {
	live := h.live()
	for _, c := range live {
		c.homeMu.Lock()
		c.mu.Lock()
	}
	defer func() {
		for _, c := range live {
			c.mu.Unlock()
			c.homeMu.Unlock()
		}
	}()
	for _, c := range live {
		// A node that lost a reply has asked for a new generation: the
		// grant it may have left at a home is cleaned up by it.
		if c.frozen || c.gen != live[0].gen || c.fenced || c.wantRecovery == c.gen || c.needRecovery {
			return errNotStable
		}
	}
	type rk struct {
		k    table.Key
		kind table.RecordKind
		id   table.OpenID
		off  uint64
		ln   uint64
	}
	count := func(m map[rk]int, r table.Record) {
		x := rk{k: r.Key, kind: r.Kind, id: r.Open.ID}
		if r.Kind == table.RecordLock {
			x.id, x.off, x.ln = r.Lock.Open, r.Lock.Offset, r.Lock.Length
		}
		m[x]++
	}
	owned := make(map[rk]int)
	homed := make(map[rk]int)
	liveNames := make(map[string]bool)
	for _, c := range live {
		liveNames[c.self.Name] = true
		for k, o := range c.owned {
			for _, r := range o.records(k) {
				count(owned, r)
			}
		}
		for _, r := range c.tbl.Export(nil) {
			count(homed, r)
		}
	}
	for x, n := range homed {
		if !liveNames[x.id.Node] {
			return fmt.Errorf("home holds a record of departed node %s: %+v", x.id.Node, x)
		}
		if owned[x] != n {
			return fmt.Errorf("record %+v: %d at homes, %d at owners", x, n, owned[x])
		}
	}
	for x, n := range owned {
		if homed[x] != n {
			return fmt.Errorf("record %+v: owned %d times, homed %d", x, n, homed[x])
		}
	}
	return nil
}
