package lockdb

import (
	"encoding/json"
	"slices"

	"shoal/lockdb/table"
)

// ownedKey is this node's own copy of the records its clients hold on one
// key: what it reasserts to the key's home after a membership change.
// Guarded by Cluster.mu.
type ownedKey struct {
	opens []table.Record // RecordOpen, grant order
	locks []table.LockRequest
}

// records lists the key's records in Import order: opens, then locks.
func (o *ownedKey) records(k table.Key) []table.Record {
	out := make([]table.Record, 0, len(o.opens)+len(o.locks))
	out = append(out, o.opens...)
	for _, l := range o.locks {
		out = append(out, table.Record{Key: k, Kind: table.RecordLock, Lock: l})
	}
	return out
}

func (o *ownedKey) open(id table.OpenID) *table.Record {
	for i := range o.opens {
		if o.opens[i].Open.ID == id {
			return &o.opens[i]
		}
	}
	return nil
}

func sameLease(a table.Open, guid, key [16]byte) bool {
	return a.Oplock == table.OplockLease && a.ClientGUID == guid && a.LeaseKey == key
}

func (c *Cluster) ownedLocked(k table.Key) *ownedKey {
	o := c.owned[k]
	if o == nil {
		o = &ownedKey{}
		c.owned[k] = o
	}
	return o
}

func (c *Cluster) gcOwnedLocked(k table.Key) {
	if o := c.owned[k]; o != nil && len(o.opens) == 0 && len(o.locks) == 0 {
		delete(c.owned, k)
	}
}

// recordOpenLocked stores a granted open as the home answered it.
func (c *Cluster) recordOpenLocked(k table.Key, op table.Open, res table.Result) {
	o := c.ownedLocked(k)
	r := table.Record{Key: k, Kind: table.RecordOpen, Open: op}
	if op.Oplock == table.OplockLease {
		r.Open.LeaseState, r.Open.LeaseEpoch = res.LeaseState, res.LeaseEpoch
		// Every open of the lease caches the same state. The answer
		// moves the lease's owned state only if the decider changed it
		// (an upgrade or a break, each of which moves the epoch on)
		// after what this copy last heard: a break notice, or an ack,
		// may have come between the decision and this commit, and the
		// answer must not undo them. (A v1 break carries no epoch, so a
		// v1 lease always takes the answer's state.)
		for i := range o.opens {
			x := &o.opens[i]
			if !sameLease(x.Open, op.ClientGUID, op.LeaseKey) {
				continue
			}
			if res.LeaseEpoch > x.Open.LeaseEpoch || op.LeaseVersion != 2 {
				x.Open.LeaseState, x.Open.LeaseEpoch = res.LeaseState, res.LeaseEpoch
			}
			r.Open.LeaseState, r.Open.LeaseEpoch = x.Open.LeaseState, x.Open.LeaseEpoch
			r.Breaking, r.BreakTo = x.Breaking, x.BreakTo
		}
	} else {
		r.Open.Oplock = res.Oplock
		r.Open.LeaseState = 0
	}
	o.opens = append(o.opens, r)
	c.applyEarlyLocked(k)
	if op.Durable {
		if b, err := json.Marshal(r); err == nil {
			if err := c.st.putDurable(op.ID.String(), b); err != nil {
				c.log.Warn("durable open not persisted", "open", op.ID.String(), "err", err)
			}
		}
	}
}

// recordCloseLocked forgets an open with its locks; it reports whether
// the open was owned.
func (c *Cluster) recordCloseLocked(k table.Key, id table.OpenID) bool {
	o := c.owned[k]
	if o == nil {
		return false
	}
	c.log.Debug("owned: close", "key", k.String(), "open", id.String(), "gen", c.gen)
	n := len(o.opens)
	o.opens = slices.DeleteFunc(o.opens, func(r table.Record) bool {
		if r.Open.ID == id && r.Open.Durable {
			c.st.deleteDurable(id.String())
		}
		return r.Open.ID == id
	})
	o.locks = slices.DeleteFunc(o.locks, func(l table.LockRequest) bool { return l.Open == id })
	c.gcOwnedLocked(k)
	return len(o.opens) < n
}

func (c *Cluster) recordLockLocked(k table.Key, l table.LockRequest) {
	o := c.ownedLocked(k)
	o.locks = append(o.locks, l)
	c.log.Debug("owned: lock", "key", k.String(), "lock", l, "gen", c.gen)
}

// recordUnlockLocked forgets the earliest owned lock of l's open with
// exactly l's range (as the home's Unlock does); it reports whether there
// was one.
func (c *Cluster) recordUnlockLocked(k table.Key, l table.LockRequest) bool {
	o := c.owned[k]
	if o == nil {
		return false
	}
	found := false
	for i, x := range o.locks {
		if x.Open == l.Open && x.Offset == l.Offset && x.Length == l.Length {
			c.log.Debug("owned: unlock", "key", k.String(), "lock", l, "gen", c.gen)
			o.locks = slices.Delete(o.locks, i, i+1)
			found = true
			break
		}
	}
	c.gcOwnedLocked(k)
	return found
}

func (c *Cluster) recordDeleteOnCloseLocked(k table.Key, id table.OpenID, on bool) {
	o := c.owned[k]
	if o == nil {
		return
	}
	for i := range o.opens {
		if on && o.opens[i].Open.ID == id || !on {
			o.opens[i].DeletePending = on
		}
	}
}

// recordAckLocked applies a client's accepted break acknowledgment. An
// ack of an open whose grant is not recorded yet (its break notice
// overtook the grant, and the client answered it) is kept for the grant.
func (c *Cluster) recordAckLocked(k table.Key, a table.BreakAck, dropOplock bool) {
	if !c.applyAckLocked(k, a, dropOplock) {
		c.noteEarlyLocked(k, earlyNote{ack: &a, drop: dropOplock})
	}
}

// applyAckLocked applies an ack to the owned copy; it reports whether a
// record matched.
func (c *Cluster) applyAckLocked(k table.Key, a table.BreakAck, dropOplock bool) bool {
	o := c.owned[k]
	if o == nil {
		return false
	}
	hit := false
	for i := range o.opens {
		r := &o.opens[i]
		switch {
		case a.Lease && sameLease(r.Open, a.ClientGUID, a.LeaseKey):
			hit = true
			r.Open.LeaseState, r.Breaking, r.BreakTo = a.LeaseState, false, 0
		case !a.Lease && r.Open.ID == a.Open:
			hit = true
			r.Open.Oplock, r.Breaking, r.BreakTo = a.Oplock, false, 0
			if dropOplock {
				r.Open.Oplock = table.OplockNone
			}
		}
	}
	return hit
}

// earlyNote is a break notice (brk) or an accepted break acknowledgment
// (ack) that matched no owned record when it came: the decider's answer
// granting the open it concerns was not committed yet. This happens most
// with a delegate or a home deciding for its own clients, whose break
// notices to themselves run concurrently with the commit of the grant.
type earlyNote struct {
	brk  *table.Break
	ack  *table.BreakAck
	drop bool
}

// noteEarlyLocked keeps n for the grant of an open of k that this node
// has under way. Without one, n concerns a record already released here
// and is dropped. Caller holds c.mu.
func (c *Cluster) noteEarlyLocked(k table.Key, n earlyNote) {
	if c.opening[k] > 0 {
		c.early[k] = append(c.early[k], n)
	}
}

// applyEarlyLocked applies, in their order, the notes kept for k after a
// grant of k was recorded. Notes that still match nothing stay for
// another grant under way (another open of this node on k); they go when
// the last one ends (doneOpening). Caller holds c.mu.
func (c *Cluster) applyEarlyLocked(k table.Key) {
	notes := c.early[k]
	keep := notes[:0]
	for _, n := range notes {
		hit := false
		if n.brk != nil {
			hit = c.applyBreakLocked(*n.brk)
		} else {
			hit = c.applyAckLocked(k, *n.ack, n.drop)
		}
		if !hit {
			keep = append(keep, n)
		}
	}
	if len(keep) == 0 {
		delete(c.early, k)
		return
	}
	c.early[k] = keep
}

// startOpening counts an OpenFile of k under way here, so that break
// notices and acks overtaking its grant are kept for it; the returned
// function ends it.
func (c *Cluster) startOpening(k table.Key) (done func()) {
	c.mu.Lock()
	c.opening[k]++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.opening[k]--; c.opening[k] <= 0 {
			delete(c.opening, k)
			delete(c.early, k)
		}
	}
}

// applyBreakLocked records a break delivered to this owner: a break that
// needs no ack has already happened at the home; one that does is in
// flight and is reasserted as such. It reports whether a record matched.
func (c *Cluster) applyBreakLocked(b table.Break) bool {
	o := c.owned[b.Key]
	if o == nil {
		return false
	}
	hit := false
	for i := range o.opens {
		r := &o.opens[i]
		switch {
		case b.Lease && sameLease(r.Open, b.ClientGUID, b.LeaseKey):
			hit = true
			if b.AckRequired {
				r.Breaking, r.BreakTo = true, b.LeaseTo
			} else {
				r.Open.LeaseState, r.Breaking, r.BreakTo = b.LeaseTo, false, 0
			}
			if b.NewEpoch > r.Open.LeaseEpoch {
				r.Open.LeaseEpoch = b.NewEpoch
			}
		case !b.Lease && r.Open.ID == b.Open:
			hit = true
			if b.AckRequired {
				r.Breaking, r.BreakTo = true, oplockBits(b.OplockTo)
			} else {
				r.Open.Oplock, r.Breaking, r.BreakTo = b.OplockTo, false, 0
			}
		}
	}
	return hit
}

// oplockBits maps an oplock level to the lease bits it caches, as
// table.Record.BreakTo expects for oplock opens.
func oplockBits(level uint8) uint32 {
	switch level {
	case table.OplockBatch:
		return table.LeaseRead | table.LeaseWrite | table.LeaseHandle
	case table.OplockExclusive:
		return table.LeaseRead | table.LeaseWrite
	case table.OplockLevelII:
		return table.LeaseRead
	}
	return table.LeaseNone
}

// DurableOpens lists the durable-open records this node persisted in its
// bbolt file (they survive a noded restart). After a restart they are not
// in the cluster until reclaimed: the SMB layer re-opens each one with
// OpenFile when its client reconnects (durable handle reconnect), which
// fails cleanly if someone else opened the file meanwhile; ForgetDurable
// drops one that will not be reclaimed.
func (c *Cluster) DurableOpens() ([]table.Record, error) {
	m, err := c.st.listDurable()
	if err != nil {
		return nil, err
	}
	out := make([]table.Record, 0, len(m))
	for id, b := range m {
		var r table.Record
		if err := json.Unmarshal(b, &r); err != nil {
			c.log.Warn("durable open record unreadable", "open", id, "err", err)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// ForgetDurable removes a persisted durable-open record.
func (c *Cluster) ForgetDurable(id table.OpenID) error {
	return c.st.deleteDurable(id.String())
}
