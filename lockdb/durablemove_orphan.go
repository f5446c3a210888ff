package lockdb

// Durable opens of a departed node ("orphans").
//
// Normally a departed node's records disappear in the recovery: the new
// home tables are rebuilt from what the surviving owners reassert. A
// durable open is the exception (DESIGN.md, REASSERT): its client may come
// back through another node. The key's home holds every durable open's
// record with its current caching and byte-range locks, so the home keeps
// them: at FREEZE it copies the durable records of its table aside
// (carryDurableLocked), at REASSERT it pushes those whose owner is not in
// the new node map (same name and incarnation) to their new homes
// (reassertOrphans, kindDurable "orphans"), and when the generation is
// committed the new home imports them after everything the live owners
// reasserted, dropping any that would conflict (installOrphansLocked).
// From then on the home keeps them in custody, under the departed node's
// OpenID: their share modes and locks stay in force, FindDurable lists
// them, MoveDurable hands one to the node its client reconnects through
// (no owner to ask), a break that needs an acknowledgment closes them (as
// the SMB layer closes a disconnected durable open), and a timer closes
// them after the durable timeout (16 minutes for v1, 300 s, the longest a
// v2 client may ask for, for v2: the owner's SMB layer knew the exact one).
// Orphans follow their key to a new home in later recoveries the same way.
//
// When the owner was also the key's home, the copy comes from the
// owner's successor instead (durablemove_replica.go). Not covered: a
// durable open whose owner died together with its home or successor; an
// orphan in custody dies with its home.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"shoal/lockdb/table"
)

// Orphan timeouts by durable version (smbnode's durableV1Timeout and
// durableV2MaxTimeout).
const (
	orphanV1Timeout = 16 * time.Minute
	orphanV2Timeout = 300 * time.Second
)

// durableCustody is a node's share of the orphan bookkeeping. Guarded by
// Cluster.mu.
type durableCustody struct {
	// carry are the durable records copied from the home table at the
	// freezes since the last commit, by open.
	carry map[table.OpenID]orphanRec
	// pend are the orphans pushed here for the pending generation.
	pend        []orphanRec
	pendGen     uint64
	pendAttempt uint64
	// custody are the orphans this node holds as their key's home.
	custody map[table.OpenID]*custodyRec
	// repl replicates self-homed durable opens (durablemove_replica.go).
	repl replicaState
}

// orphanRec is a durable open as its home carries it to the next one.
type orphanRec struct {
	Owner   Peer           `json:"owner"`   // the node that granted it
	Records []table.Record `json:"records"` // the open, then its locks
	// Remaining is how long it may still wait for its client.
	Remaining time.Duration `json:"remaining"`
}

type custodyRec struct {
	key   table.Key
	until time.Time
	timer *time.Timer
}

// orphansReq is the body of kindDurable "orphans" (in keyReq.Durable).
type orphansReq struct {
	Attempt uint64      `json:"attempt"`
	Orphans []orphanRec `json:"orphans"`
}

// carryDurableLocked copies the durable opens of the home table aside
// before a freeze empties it. Caller holds homeMu and c.mu.
func (c *Cluster) carryDurableLocked() {
	if c.dur.carry == nil {
		c.dur.carry = make(map[table.OpenID]orphanRec)
	}
	recs := c.tbl.Export(nil)
	now := time.Now()
	for _, r := range recs {
		op := r.Open
		if r.Kind != table.RecordOpen || !op.Durable || op.DeleteOnClose || r.DeletePending || !durableCaching(op) {
			continue
		}
		o := orphanRec{Records: []table.Record{r}, Remaining: defaultOrphanTimeout(op)}
		if cr := c.dur.custody[op.ID]; cr != nil {
			o.Remaining = max(cr.until.Sub(now), time.Millisecond)
			o.Owner = Peer{Name: op.ID.Node} // departed already: no incarnation matches
		} else if m, ok := findMember(c.nodes, op.ID.Node); ok {
			o.Owner = m.peer()
		} else {
			o.Owner = Peer{Name: op.ID.Node}
		}
		for _, l := range recs {
			if l.Kind == table.RecordLock && l.Key == r.Key && l.Lock.Open == op.ID {
				o.Records = append(o.Records, l)
			}
		}
		c.dur.carry[op.ID] = o
	}
	c.carryReplicasLocked()
}

// defaultOrphanTimeout is how long an orphan waits for its client when
// its owner's timer is unknown.
func defaultOrphanTimeout(op table.Open) time.Duration {
	if op.CreateGUID != [16]byte{} {
		return orphanV2Timeout
	}
	return orphanV1Timeout
}

// durableCaching reports whether an open's caching makes it durable: a
// batch oplock or a lease with Handle caching (a record may ask for
// durability and not get it).
func durableCaching(op table.Open) bool {
	return op.Oplock == table.OplockBatch || op.Oplock == table.OplockLease && op.LeaseState&table.LeaseHandle != 0
}

// reassertOrphans pushes the carried durable opens of owners that are not
// in the pending node map to their new homes.
func (c *Cluster) reassertOrphans(ctx context.Context, gen, attempt uint64, nodes []Member) error {
	c.mu.Lock()
	byHome := make(map[string][]orphanRec)
	homes := make(map[string]Member)
	for _, o := range c.dur.carry {
		if hasPeer(nodes, o.Owner) {
			continue // its owner reasserts it
		}
		h := homeOf(o.Records[0].Key, nodes)
		homes[h.Name] = h
		byHome[h.Name] = append(byHome[h.Name], o)
	}
	c.mu.Unlock()
	for name, os := range byHome {
		cctx, cancel := context.WithTimeout(ctx, 3*c.cfg.RPCTimeout)
		_, err := c.call(cctx, homes[name], kindDurable, gen, keyReq{Durable: &durableOp{Op: "orphans",
			Orphans: &orphansReq{Attempt: attempt, Orphans: os}}})
		cancel()
		if err != nil {
			return fmt.Errorf("pushing %d orphaned durable opens to %s: %w", len(os), name, err)
		}
		c.log.Info("recovery: orphaned durable opens pushed to their new home", "home", name, "opens", len(os))
	}
	return nil
}

// receiveOrphans keeps orphans pushed here for the pending generation
// until it is committed.
func (c *Cluster) receiveOrphans(gen uint64, req *orphansReq) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pend
	if p == nil || p.gen != gen || p.attempt != req.Attempt || !c.frozen {
		return ErrStaleGeneration
	}
	for _, o := range req.Orphans {
		if len(o.Records) == 0 || homeOf(o.Records[0].Key, p.nodes).Name != c.self.Name {
			return ErrNotHome
		}
	}
	if c.dur.pendGen != gen || c.dur.pendAttempt != req.Attempt {
		c.dur.pend, c.dur.pendGen, c.dur.pendAttempt = nil, gen, req.Attempt
	}
	c.dur.pend = append(c.dur.pend, req.Orphans...)
	return nil
}

// installOrphansLocked, at the commit of pending generation p, imports
// the orphans pushed here after the live owners' records and takes them
// into custody; what was carried is delivered. Caller holds homeMu and
// c.mu.
func (c *Cluster) installOrphansLocked(p *pending) {
	for _, cr := range c.dur.custody {
		cr.timer.Stop()
	}
	c.dur.custody, c.dur.carry = nil, nil
	c.pruneReplicasLocked(p.nodes)
	c.startReplicaLoopLocked()
	pend := c.dur.pend
	c.dur.pend = nil
	if c.dur.pendGen != p.gen || c.dur.pendAttempt != p.attempt {
		return
	}
	tbl := c.tbl
	for _, o := range pend {
		r := o.Records[0]
		if c.dur.custody[r.Open.ID] != nil {
			continue // carried by its old home and by a replica
		}
		if err := tbl.Import(o.Records); err != nil {
			c.log.Warn("orphaned durable open dropped: it conflicts with the live records", "open", r.Open.ID.String(), "key", r.Key.String(), "err", err)
			continue
		}
		if c.dur.custody == nil {
			c.dur.custody = make(map[table.OpenID]*custodyRec)
		}
		id := r.Open.ID
		c.dur.custody[id] = &custodyRec{key: r.Key, until: time.Now().Add(o.Remaining),
			timer: time.AfterFunc(o.Remaining, func() { c.expireOrphan(tbl, id) })}
		c.log.Info("orphaned durable open kept for its client", "open", id.String(), "key", r.Key.String(), "for", o.Remaining)
	}
}

// expireOrphan closes an orphan whose client did not come back in time.
func (c *Cluster) expireOrphan(tbl *table.Table, id table.OpenID) {
	c.homeMu.RLock()
	defer c.homeMu.RUnlock()
	c.mu.Lock()
	cr := c.dur.custody[id]
	ok := cr != nil && c.tbl == tbl && !c.closed
	if ok {
		delete(c.dur.custody, id)
	}
	c.mu.Unlock()
	if ok {
		c.log.Info("orphaned durable open timed out", "open", id.String())
		tbl.CloseFile(cr.key, id)
	}
}

// takeOrphanLocked removes open id of k from custody, reporting whether
// it was an orphan. Caller holds c.mu.
func (c *Cluster) takeOrphanLocked(k table.Key, id table.OpenID) bool {
	cr := c.dur.custody[id]
	if cr == nil || cr.key != k {
		return false
	}
	cr.timer.Stop()
	delete(c.dur.custody, id)
	return true
}

// orphanRecordsLocked lists the orphans in custody with FileID id on
// share. Caller holds c.mu.
func (c *Cluster) orphanRecordsLocked(share string, id uint64) []table.Record {
	var out []table.Record
	for oid, cr := range c.dur.custody {
		if oid.ID != id || !strings.EqualFold(cr.key.Share, share) {
			continue
		}
		for _, r := range c.tbl.Records(cr.key) {
			if r.Kind == table.RecordOpen && r.Open.ID == oid {
				out = append(out, r)
			}
		}
	}
	return out
}

// breakOrphanLocked handles a break for an orphan (armBreaks asks first):
// there is no client to deliver it to. One that needs an acknowledgment
// closes the orphans holding the oplock or lease, as the SMB layer closes
// a disconnected durable open, so the waiting open proceeds at once; one
// that does not has been applied already. It reports whether b was an
// orphan's. Caller holds homeMu for reading and c.mu.
func (c *Cluster) breakOrphanLocked(tbl *table.Table, b table.Break) bool {
	if c.dur.custody[b.Open] == nil {
		return false
	}
	if !b.AckRequired {
		return true
	}
	for _, r := range tbl.Records(b.Key) {
		op := r.Open
		hit := op.ID == b.Open || b.Lease && op.Oplock == table.OplockLease && op.ClientGUID == b.ClientGUID && op.LeaseKey == b.LeaseKey
		if r.Kind != table.RecordOpen || !hit || !c.takeOrphanLocked(b.Key, op.ID) {
			continue
		}
		c.log.Info("break reached an orphaned durable open: closing it", "open", op.ID.String(), "key", b.Key.String())
		tbl.CloseFile(b.Key, op.ID)
	}
	for _, r := range tbl.Records(b.Key) {
		if r.Kind == table.RecordOpen && b.Lease && r.Open.Oplock == table.OplockLease && r.Open.ClientGUID == b.ClientGUID && r.Open.LeaseKey == b.LeaseKey {
			return false // live opens share the lease: the break times out as usual
		}
	}
	return true
}
