package table

import "fmt"

// Reown gives open old of key k a new identity, nu, owned by another node
// (a durable handle reconnected through another node than the one that
// granted it): the open keeps its place in the share-mode order, its
// access and share mode, its byte-range locks (re-labelled, in grant
// order) and its oplock or its reference to its lease. A break of the
// open's oplock in flight to old's node is redirected to nu's node (its
// acknowledgment, if any, comes from there now). session is the new
// Open.Session (display only).
//
// It returns the open's record and its locks as they are now, under the
// new identity: what the new owner keeps in its own copy. ErrNoSuchOpen
// when old is not recorded for k, ErrOpenExists when nu already is. It
// never blocks; waiters of k are not woken (nothing they wait for
// changed).
func (t *Table) Reown(k Key, old, nu OpenID, session uint64) (Record, []LockRequest, error) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return Record{}, nil, fmt.Errorf("%w: %v on %v", ErrNoSuchOpen, old, k)
	}
	_, o := e.findOpen(old)
	if o == nil {
		return Record{}, nil, fmt.Errorf("%w: %v on %v", ErrNoSuchOpen, old, k)
	}
	if old == nu {
		return o.record(k, e.deletePending), e.locksOf(nu), nil
	}
	if _, x := e.findOpen(nu); x != nil {
		return Record{}, nil, fmt.Errorf("%w: %v on %v", ErrOpenExists, nu, k)
	}
	o.ID, o.Session = nu, session
	if o.breaking && o.breakOwner == old.Node {
		o.breakOwner = nu.Node
	}
	for i := range e.locks {
		if e.locks[i].Open == old {
			e.locks[i].Open = nu
		}
	}
	if _, ok := e.retrying[old]; ok {
		delete(e.retrying, old)
		e.retrying[nu] = struct{}{}
	}
	return o.record(k, e.deletePending), e.locksOf(nu), nil
}

// locksOf lists the byte-range locks of open id in grant order.
func (e *entry) locksOf(id OpenID) []LockRequest {
	var out []LockRequest
	for _, l := range e.locks {
		if l.Open == id {
			out = append(out, l)
		}
	}
	return out
}
