package table

import (
	"fmt"
	"slices"
)

// DropNode removes every record owned by node: its opens, their
// byte-range locks and lease references, and forgets breaks that were
// delivered to node (the next attempt of a waiting open sends them again to
// a live owner). Delete-on-close of dropped opens is not applied: a crashed
// node's client never closed its handle, and the name stays. Waiters of
// every affected key are woken. It returns the affected keys. It never
// blocks.
func (t *Table) DropNode(node string) []Key {
	var keys []Key
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for k, e := range s.entries {
			changed := false
			for j := len(e.opens) - 1; j >= 0; j-- {
				if e.opens[j].ID.Node == node {
					e.removeOpen(j)
					changed = true
				}
			}
			for _, l := range e.leases {
				if l.breaking && l.breakOwner == node {
					l.breaking = false
					changed = true
				}
			}
			if changed {
				keys = append(keys, k)
				s.gc(k, e)
				s.wake(k)
			}
		}
		s.mu.Unlock()
	}
	return keys
}

// Export snapshots the records of every key for which filter returns true
// (nil: every key), opens of a key before its locks. The records are plain
// copies, safe to encode and send to a new home. Keys are snapshotted one
// shard at a time, so the result is consistent per key, not across keys.
func (t *Table) Export(filter func(Key) bool) []Record {
	var out []Record
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for k, e := range s.entries {
			if filter == nil || filter(k) {
				out = e.records(k, out)
			}
		}
		s.mu.Unlock()
	}
	return out
}

// Import installs records reasserted by their owners (or pushed from an
// old home), after the records already present. It is all or nothing: if
// any record is malformed, names an open already recorded, a lock of an
// unknown open, or would make two conflicting grants coexist, nothing is
// installed and the error wraps ErrInvariant (or ErrOpenExists,
// ErrNoSuchOpen, ErrInvalidParameter). Imported lease states of one lease
// that disagree are intersected. Breaks in flight keep going under new
// sequence numbers (a waiting open sees them in Result.InFlight). Waiters
// of imported keys are woken. It never blocks.
func (t *Table) Import(recs []Record) error {
	byKey := make(map[Key][]Record)
	var order []Key
	for _, r := range recs {
		if _, ok := byKey[r.Key]; !ok {
			order = append(order, r.Key)
		}
		byKey[r.Key] = append(byKey[r.Key], r)
	}
	var idx []int
	for _, k := range order {
		idx = append(idx, t.shardIndex(k))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		t.shards[i].mu.Lock()
	}
	defer func() {
		for _, i := range idx {
			t.shards[i].mu.Unlock()
		}
	}()

	staged := make(map[Key]*entry, len(order))
	for _, k := range order {
		s := t.shard(k)
		e := s.entries[k].clone()
		for _, r := range byKey[k] {
			if err := e.importRecord(s, k, r); err != nil {
				return fmt.Errorf("table: import %v %v: %w", k, r.Kind, err)
			}
		}
		if err := e.check(); err != nil {
			t.log.Warn("import would violate the invariant", "key", k.String(), "err", err)
			return fmt.Errorf("%w: import %v: %v", ErrInvariant, k, err)
		}
		staged[k] = e
	}
	for _, k := range order {
		s := t.shard(k)
		e := staged[k]
		s.entries[k] = e
		s.gc(k, e)
		s.wake(k)
	}
	return nil
}

func (e *entry) importRecord(s *shard, k Key, r Record) error {
	switch r.Kind {
	case RecordOpen:
		o := r.Open
		if _, dup := e.findOpen(o.ID); dup != nil {
			return fmt.Errorf("%w: %v", ErrOpenExists, o.ID)
		}
		rec := &openRec{Open: o}
		switch o.Oplock {
		case OplockNone, OplockLevelII, OplockExclusive, OplockBatch:
			if r.Breaking {
				to := leaseToOplock(r.BreakTo)
				rec.breaking, rec.breakTo, rec.breakSeq, rec.breakOwner = true, to, s.nextSeq(), o.ID.Node
			}
		case OplockLease:
			if o.LeaseVersion != 1 && o.LeaseVersion != 2 {
				return fmt.Errorf("%w: lease version %d", ErrInvalidParameter, o.LeaseVersion)
			}
			state := normalizeLease(o.LeaseState)
			l := e.findLease(o.ClientGUID, o.LeaseKey)
			if l == nil {
				l = &leaseRec{
					clientGUID: o.ClientGUID, key: o.LeaseKey, parent: o.ParentLeaseKey,
					version: o.LeaseVersion, state: state, epoch: o.LeaseEpoch,
				}
				e.leases = append(e.leases, l)
			} else {
				l.state = normalizeLease(l.state & state)
				l.breakTo &= l.state
				l.breakReq &= l.state
				l.epoch = max(l.epoch, o.LeaseEpoch)
			}
			if r.Breaking {
				to := normalizeLease(r.BreakTo & l.state)
				if l.breaking {
					to &= l.breakTo
				}
				if to != l.state {
					req := to & r.BreakRequired
					if l.breaking {
						req &= l.breakReq
					}
					l.breaking, l.breakTo, l.breakReq, l.breakSeq, l.breakOwner = true, to, req, s.nextSeq(), o.ID.Node
				}
			}
			l.refs++
			rec.lease = l
		default:
			return fmt.Errorf("%w: oplock %#x", ErrInvalidParameter, o.Oplock)
		}
		e.opens = append(e.opens, rec)
		if r.DeletePending {
			e.deletePending = true
		}
		return nil
	case RecordLock:
		if _, o := e.findOpen(r.Lock.Open); o == nil {
			return fmt.Errorf("%w: lock of %v", ErrNoSuchOpen, r.Lock.Open)
		}
		e.locks = append(e.locks, r.Lock)
		return nil
	}
	return fmt.Errorf("%w: record kind %v", ErrInvalidParameter, r.Kind)
}

// clone deep-copies an entry (nil gives an empty one) so Import can stage
// changes and drop them on error.
func (e *entry) clone() *entry {
	c := &entry{}
	if e == nil {
		return c
	}
	c.deletePending = e.deletePending
	c.locks = slices.Clone(e.locks)
	m := make(map[*leaseRec]*leaseRec, len(e.leases))
	for _, l := range e.leases {
		cl := *l
		m[l] = &cl
		c.leases = append(c.leases, &cl)
	}
	for _, o := range e.opens {
		co := *o
		if o.lease != nil {
			co.lease = m[o.lease]
		}
		c.opens = append(c.opens, &co)
	}
	return c
}
