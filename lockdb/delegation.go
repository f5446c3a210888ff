package lockdb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"shoal/lockdb/table"
)

// Delegations (see doc.go): a key's home may hand its authority over the
// key to the one node whose clients alone use it; that node (the
// delegate) then decides every request for the key in its own table until
// the home recalls it. This file holds the three sides: the home's marks
// and recalls, the delegate's held keys, and the requester's gate that
// asks for a delegation only when nothing else of the key is in flight.

// delegation is a home's mark on a key it delegated. Guarded by Cluster.mu.
type delegation struct {
	to string // the delegate
	// recall is non-nil while a recall is under way and closed when it
	// ends; requests for the key at the home wait for it.
	recall chan struct{}
	// failed: the recall did not come back. Nobody decides the key until
	// the next generation (a recovery was requested).
	failed bool
}

// heldKey is a delegate's side of a delegation. Guarded by Cluster.mu.
type heldKey struct {
	active   int           // local decisions under way
	idle     chan struct{} // closed when active drops to 0 during a recall
	gone     chan struct{} // closed when a recall starts: waiting decisions give up
	recalled bool
	used     time.Time // last local decision began
}

// keyFlight counts this node's requests for a key that are at the key's
// home. Guarded by Cluster.mu.
//
// Other requests of the key are not held back while one asks: the asking
// one may be an open waiting behind a break of this node's own client,
// which only this node's ack or close ends. One that reaches the home
// after the grant makes the home recall the key, and the recall waits
// here until the grant is installed (handleRecall), so the two cannot
// race.
type keyFlight struct {
	n      int
	asking bool          // one of them asks for the delegation
	done   chan struct{} // closed when the asking one's reply was handled
}

// delegState is one node's delegation bookkeeping, all sides. Its maps
// are guarded by Cluster.mu and emptied at every freeze: a delegation
// lives within one generation.
type delegState struct {
	out      map[table.Key]*delegation // home: keys it delegated
	held     map[table.Key]*heldKey    // delegate: keys it decides for their homes
	flight   map[table.Key]*keyFlight  // requester: requests at homes
	active   map[table.Key]int         // home: requests being decided here
	recalled map[table.Key]time.Time   // home: last recall, for hysteresis

	grants  atomic.Uint64 // delegations this node handed out (home)
	recalls atomic.Uint64 // recalls this node completed (home)
}

func (d *delegState) reset() {
	d.out = make(map[table.Key]*delegation)
	d.held = make(map[table.Key]*heldKey)
	d.flight = make(map[table.Key]*keyFlight)
	d.active = make(map[table.Key]int)
	d.recalled = make(map[table.Key]time.Time)
}

// dropDelegationsLocked ends every delegation this node holds or handed
// out, at a freeze: the records are rebuilt at the real homes from the
// owners' copies. Waiters wake through the generation change. Caller
// holds c.mu (and homeMu, as the table is replaced too).
func (c *Cluster) dropDelegationsLocked() {
	for _, h := range c.dlg.held {
		if !h.recalled {
			h.recalled = true
			close(h.gone)
		}
	}
	c.dlg.reset()
}

// DelegationStats reports how many keys this node has delegated to others
// (out) and decides for their homes (held), and how many delegations it
// granted and recalled as a home since it started.
func (c *Cluster) DelegationStats() (out, held int, grants, recalls uint64) {
	c.mu.Lock()
	out, held = len(c.dlg.out), len(c.dlg.held)
	c.mu.Unlock()
	return out, held, c.dlg.grants.Load(), c.dlg.recalls.Load()
}

// route decides where this node sends a request for k: to its own table
// (local: it is the home or holds the delegation) or to the home. A
// remote request is counted in flight until finish is called; ask says it
// carries the request for a delegation (only when no other request of k
// is at the home).
func (c *Cluster) route(k table.Key, home Member, kind Kind) (local, ask bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.dlg.held[k]; h != nil && !h.recalled {
		return true, false
	}
	if home.Name == c.self.Name {
		return true, false
	}
	f := c.dlg.flight[k]
	if f == nil {
		f = &keyFlight{}
		c.dlg.flight[k] = f
	}
	if f.n == 0 && kind != kindCheckIO && kind != kindAckBreak && kind != kindDurable && len(c.dlg.held) < c.cfg.MaxDelegations {
		f.asking, f.done, ask = true, make(chan struct{}), true
	}
	f.n++
	return false, ask
}

// finish ends a remote request routed by route. When it asked and the
// home granted the delegation in gen (res.Delegated), the records are
// installed in this node's table, under the same locks and checks as
// commit, before the answer is committed. It reports false
// if the grant could not be installed (the records are then only in the
// owners' copies: a recovery was requested).
func (c *Cluster) finish(gen uint64, k table.Key, ask bool, res *homeRes) bool {
	ok := true
	if ask && res != nil && res.Delegated {
		c.homeMu.RLock()
		c.mu.Lock()
		ok = c.installLocked(gen, k, res.Records)
		c.mu.Unlock()
		c.homeMu.RUnlock()
		if !ok {
			c.requestRecovery(gen)
		}
	}
	c.mu.Lock()
	if f := c.dlg.flight[k]; f != nil {
		f.n--
		if ask {
			f.asking = false
			close(f.done)
		}
		if f.n == 0 {
			delete(c.dlg.flight, k)
		}
	}
	c.mu.Unlock()
	return ok
}

// installLocked makes this node the delegate of k with recs. Caller holds
// homeMu for reading and c.mu.
func (c *Cluster) installLocked(gen uint64, k table.Key, recs []table.Record) bool {
	if c.frozen || c.closed || c.fenced || c.gen != gen {
		return gen != c.gen // a later generation rebuilds the key anyway
	}
	if len(recs) > 0 {
		if err := c.tbl.Import(recs); err != nil {
			c.log.Error("delegation: cannot install the home's records", "key", k.String(), "err", err)
			return false
		}
	}
	c.dlg.held[k] = &heldKey{gone: make(chan struct{}), used: time.Now()}
	return true
}

// enterKey admits one decision for k in gen at this node and returns the
// function that ends it and, for a delegate, the channel a waiting
// decision must also watch (closed when the home recalls the key). At a
// home, a delegated key is recalled first; requests wait for the recall.
func (c *Cluster) enterKey(ctx context.Context, gen uint64, k table.Key) (leave func(), gone <-chan struct{}, err error) {
	for {
		c.mu.Lock()
		if !c.closed && gen > c.gen {
			// The requester heard of the commit of gen before this node:
			// wait for it here, so that the decision is counted and sees
			// the delegations (a request decided uncounted could be
			// decided here after the key was delegated: two deciders).
			changed := c.changed
			c.mu.Unlock()
			t := time.NewTimer(2 * c.cfg.HeartbeatInterval)
			select {
			case <-changed:
				t.Stop()
				continue
			case <-t.C:
				return nil, nil, fmt.Errorf("%w: generation %d not committed here", ErrStaleGeneration, gen)
			case <-ctx.Done():
				t.Stop()
				return nil, nil, ctx.Err()
			}
		}
		if c.frozen || c.closed || gen != c.gen {
			c.mu.Unlock()
			return func() {}, nil, nil // homeState says why
		}
		if h := c.dlg.held[k]; h != nil {
			defer c.mu.Unlock()
			if h.recalled {
				return nil, nil, ErrRecalled
			}
			h.active++
			h.used = time.Now()
			return func() { c.leaveHeld(k, h) }, h.gone, nil
		}
		if homeOf(k, c.nodes).Name != c.self.Name {
			c.mu.Unlock()
			return func() {}, nil, nil
		}
		d := c.dlg.out[k]
		if d == nil {
			c.dlg.active[k]++
			c.mu.Unlock()
			return func() { c.leaveHome(k) }, nil, nil
		}
		if d.failed {
			c.mu.Unlock()
			c.requestRecovery(gen)
			return nil, nil, fmt.Errorf("%w: key %v was delegated and its recall failed", ErrStaleGeneration, k)
		}
		if d.recall == nil {
			d.recall = make(chan struct{})
			c.goTrackedLocked(func() { c.recallKey(gen, k, d) })
		}
		ch, changed := d.recall, c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-changed:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

func (c *Cluster) leaveHeld(k table.Key, h *heldKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.active--
	if h.active == 0 && h.idle != nil {
		close(h.idle)
		h.idle = nil
	}
}

func (c *Cluster) leaveHome(k table.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.dlg.active[k]; n > 1 {
		c.dlg.active[k] = n - 1
	} else {
		delete(c.dlg.active, k)
	}
}

// maybeDelegate hands k to the requester after a successful decision at
// its home, when asked and allowed: this is the only request of k being
// decided here, k was not recalled lately, and every record of k is the
// requester's with nothing in flight. Caller holds homeMu for reading.
func (c *Cluster) maybeDelegate(tbl *table.Table, gen uint64, k table.Key, to string, res *homeRes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen || gen != c.gen || c.tbl != tbl || c.dlg.active[k] != 1 || c.dlg.out[k] != nil || to == c.self.Name {
		return
	}
	if t, ok := c.dlg.recalled[k]; ok {
		if time.Since(t) < c.cfg.DelegationHysteresis {
			return
		}
		delete(c.dlg.recalled, k)
	}
	if _, ok := findMember(c.nodes, to); !ok {
		return
	}
	recs, ok := tbl.TakeIfOnly(k, to)
	if !ok {
		return
	}
	c.dlg.out[k] = &delegation{to: to}
	c.dlg.grants.Add(1)
	c.log.Debug("delegation: granted", "key", k.String(), "to", to, "records", len(recs), "gen", gen)
	res.Delegated, res.Records = true, recs
}

type recallReq struct {
	Key table.Key `json:"key"`
}

// recallKey takes k back from its delegate: RPC to the delegate, which
// stops deciding and sends the records, imported here. If that fails the
// key stays marked (failed) and a recovery is requested: in this
// generation nobody may decide for k, as the delegate may still be doing
// so.
func (c *Cluster) recallKey(gen uint64, k table.Key, d *delegation) {
	c.mu.Lock()
	to, ok := findMember(c.nodes, d.to)
	c.mu.Unlock()
	var recs []table.Record
	err := fmt.Errorf("%w: delegate %s not in the node map", ErrProtocol, d.to)
	if ok {
		var m Message
		m, err = c.callTimeout(to, kindRecall, gen, recallReq{Key: k})
		if err == nil {
			err = decode(m.Body, &recs)
		}
	}
	c.homeMu.RLock()
	c.mu.Lock()
	if err == nil && c.gen == gen && !c.frozen && len(recs) > 0 {
		err = c.tbl.Import(recs)
	}
	switch {
	case c.dlg.out[k] != d:
		// The generation ended meanwhile: the freeze dropped the mark.
	case err != nil:
		c.log.Warn("delegation: recall failed; requesting a recovery", "key", k.String(), "delegate", d.to, "err", err)
		d.failed = true
	default:
		c.log.Debug("delegation: recalled", "key", k.String(), "from", d.to, "records", len(recs), "gen", gen)
		delete(c.dlg.out, k)
		c.dlg.recalled[k] = time.Now()
		c.dlg.recalls.Add(1)
	}
	close(d.recall)
	c.mu.Unlock()
	c.homeMu.RUnlock()
	if err != nil {
		c.requestRecovery(gen)
	}
}

// handleRecall is the delegate's side of a recall: stop deciding for the
// key (waiting local decisions give up and retry at the home), wait for
// the decisions under way, then take the key's records out of the table
// and send them.
func (c *Cluster) handleRecall(ctx context.Context, m Message) Message {
	var req recallReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	k := req.Key
	for {
		c.mu.Lock()
		if m.Gen != c.gen || c.frozen || c.closed || c.fenced {
			c.mu.Unlock()
			return reply(c.gen, nil, ErrStaleGeneration)
		}
		var wait <-chan struct{}
		h := c.dlg.held[k]
		switch {
		case h == nil && c.dlg.flight[k] != nil && c.dlg.flight[k].asking:
			wait = c.dlg.flight[k].done // the grant's reply is being installed
		case h == nil:
			c.mu.Unlock()
			return reply(c.gen, nil, fmt.Errorf("%w: recall of %v, which this node does not hold", ErrProtocol, k))
		default:
			if !h.recalled {
				h.recalled = true
				close(h.gone)
			}
			if h.active > 0 {
				if h.idle == nil {
					h.idle = make(chan struct{})
				}
				wait = h.idle
			}
		}
		c.mu.Unlock()
		if wait == nil {
			break
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return reply(c.gen, nil, ctx.Err())
		}
	}
	c.homeMu.RLock()
	defer c.homeMu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.Gen != c.gen || c.frozen || c.dlg.held[k] == nil || c.dlg.held[k].active > 0 {
		return reply(c.gen, nil, ErrStaleGeneration)
	}
	recs := c.tbl.Take(k)
	delete(c.dlg.held, k)
	if recs == nil {
		recs = []table.Record{}
	}
	return reply(c.gen, recs, nil)
}

// handleGiveBack is a home's answer to a delegate returning a key (idle,
// or over its bound): recall it as if another node had asked.
func (c *Cluster) handleGiveBack(ctx context.Context, from Peer, m Message) Message {
	var req recallReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	c.mu.Lock()
	d := c.dlg.out[req.Key]
	if m.Gen != c.gen || c.frozen || d == nil || d.to != from.Name || d.recall != nil {
		c.mu.Unlock()
		return reply(c.gen, nil, nil) // nothing to do, or under way already
	}
	d.recall = make(chan struct{})
	c.goTrackedLocked(func() { c.recallKey(m.Gen, req.Key, d) })
	c.mu.Unlock()
	return reply(c.gen, nil, nil)
}

// delegLoop gives keys back to their homes, off the request path: those
// idle for DelegationIdle, and the least recently used beyond
// MaxDelegations.
func (c *Cluster) delegLoop() {
	defer c.wg.Done()
	if c.cfg.MaxDelegations == 0 {
		return
	}
	c.every(min(c.cfg.DelegationIdle/2, time.Second), c.giveBackIdle)
}

// every runs f every d until the cluster closes.
func (c *Cluster) every(d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		f()
	}
}

func (c *Cluster) giveBackIdle() {
	type cand struct {
		k    table.Key
		used time.Time
	}
	c.mu.Lock()
	gen, nodes := c.gen, c.nodes
	var all []cand
	for k, h := range c.dlg.held {
		if !h.recalled {
			all = append(all, cand{k, h.used})
		}
	}
	c.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].used.Before(all[j].used) })
	over := len(all) - c.cfg.MaxDelegations*7/8 // leave room to ask again
	for i, x := range all {
		if i >= over && time.Since(x.used) < c.cfg.DelegationIdle {
			break
		}
		_, err := c.callTimeout(homeOf(x.k, nodes), kindGiveBack, gen, recallReq{Key: x.k})
		if err != nil && !errors.Is(err, ErrStaleGeneration) {
			c.log.Info("delegation: give-back not delivered", "key", x.k.String(), "err", err)
			return
		}
	}
}
