package table

import (
	"fmt"
	"slices"
)

// CheckInvariant verifies, key by key under each shard's lock, that no two
// conflicting grants coexist in the table and that the bookkeeping is
// consistent. It returns an error wrapping ErrInvariant that names the
// first violation found, or nil. Tests call it after every step.
func (t *Table) CheckInvariant() error {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for k, e := range s.entries {
			if err := e.check(); err != nil {
				s.mu.Unlock()
				return fmt.Errorf("%w: key %v: %v", ErrInvariant, k, err)
			}
		}
		s.mu.Unlock()
	}
	return nil
}

// check verifies one key:
//   - open ids are unique, and no two opens have conflicting share modes;
//   - an open caching writes (W lease, exclusive or batch oplock) is alone:
//     every open outside its lease caches nothing and has no data access;
//   - every byte-range lock belongs to a recorded open, has a valid range,
//     and conflicts with no lock granted before it;
//   - leases are referenced exactly by their opens and hold a grantable
//     state; delete-pending needs an open.
func (e *entry) check() error {
	if len(e.opens) == 0 && (e.deletePending || len(e.leases) > 0 || len(e.locks) > 0) {
		return fmt.Errorf("records without an open (delete pending %v, %d leases, %d locks)",
			e.deletePending, len(e.leases), len(e.locks))
	}
	refs := make(map[*leaseRec]int, len(e.leases))
	for i, a := range e.opens {
		if a.lease != nil {
			if !slices.Contains(e.leases, a.lease) {
				return fmt.Errorf("open %v refers to an unlisted lease", a.ID)
			}
			refs[a.lease]++
			if a.Oplock != OplockLease {
				return fmt.Errorf("open %v has a lease but oplock %#x", a.ID, a.Oplock)
			}
		} else {
			switch a.Oplock {
			case OplockNone, OplockLevelII, OplockExclusive, OplockBatch:
			default:
				return fmt.Errorf("open %v holds oplock %#x", a.ID, a.Oplock)
			}
			if a.breaking && oplockToLease(a.breakTo)&^oplockToLease(a.Oplock) != 0 {
				return fmt.Errorf("open %v breaking upwards %#x -> %#x", a.ID, a.Oplock, a.breakTo)
			}
		}
		aAccess := mapGeneric(a.Access)
		for _, b := range e.opens[i+1:] {
			if a.ID == b.ID {
				return fmt.Errorf("open %v recorded twice", a.ID)
			}
			bAccess := mapGeneric(b.Access)
			if shareConflict(aAccess, a.ShareAccess, bAccess, b.ShareAccess) {
				return fmt.Errorf("share modes of %v (access %#x share %#x) and %v (access %#x share %#x) conflict",
					a.ID, a.Access, a.ShareAccess, b.ID, b.Access, b.ShareAccess)
			}
		}
		if a.cacheState()&LeaseWrite == 0 || a.losingWrite() {
			continue // a break away from write caching is in flight
		}
		for _, b := range e.opens {
			if b == a || (a.lease != nil && b.lease == a.lease) {
				continue
			}
			if b.cacheState() != LeaseNone || mapGeneric(b.Access)&conflictingAccess != 0 {
				return fmt.Errorf("open %v caches writes (%s) next to %v (access %#x, caching %s)",
					a.ID, leaseString(a.cacheState()), b.ID, b.Access, leaseString(b.cacheState()))
			}
		}
	}
	for _, l := range e.leases {
		if refs[l] != l.refs || l.refs == 0 {
			return fmt.Errorf("lease %x: %d opens refer to it, refs %d", l.key, refs[l], l.refs)
		}
		if normalizeLease(l.state) != l.state {
			return fmt.Errorf("lease %x in ungrantable state %s", l.key, leaseString(l.state))
		}
		if l.breaking && l.breakTo&^l.state != 0 {
			return fmt.Errorf("lease %x breaking upwards %s -> %s", l.key, leaseString(l.state), leaseString(l.breakTo))
		}
	}
	for i, a := range e.locks {
		if !validRange(a.Offset, a.Length) {
			return fmt.Errorf("lock %+v has an invalid range", a)
		}
		if _, o := e.findOpen(a.Open); o == nil {
			return fmt.Errorf("lock %+v belongs to no open", a)
		}
		for _, b := range e.locks[i+1:] {
			if brlConflict(a, b) {
				return fmt.Errorf("locks %+v and %+v conflict", a, b)
			}
		}
	}
	return nil
}

// leaseString renders lease bits the way Samba logs them ("RWH").
func leaseString(s uint32) string {
	out := ""
	if s&LeaseRead != 0 {
		out += "R"
	}
	if s&LeaseWrite != 0 {
		out += "W"
	}
	if s&LeaseHandle != 0 {
		out += "H"
	}
	if out == "" {
		return "none"
	}
	return out
}
