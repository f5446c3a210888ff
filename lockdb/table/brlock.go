package table

// Byte-range locks with Windows semantics (MS-FSA 2.1.5.8, 2.1.4.10;
// Samba brlock.c brl_lock_windows / brl_conflict / brl_conflict_other).

// validRange reports whether offset+length-1 fits in 64 bits (a zero
// length is always valid).
func validRange(offset, length uint64) bool {
	return length == 0 || offset+length-1 >= offset
}

// byteRangeOverlap is MS-FSA 2.1.4.10 as Samba's byte_range_overlap: the
// {0,0} range overlaps nothing; a zero-length range at X>0 overlaps a range
// that contains both X-1 and X; invalid (overflowing) ranges are clamped to
// the end of the 64-bit space.
func byteRangeOverlap(ofs1, len1, ofs2, len2 uint64) bool {
	if (ofs1 == 0 && len1 == 0) || (ofs2 == 0 && len2 == 0) {
		return false
	}
	last1, last2 := ^uint64(0), ^uint64(0)
	if validRange(ofs1, len1) {
		last1 = ofs1 + len1 - 1
	}
	if validRange(ofs2, len2) {
		last2 = ofs2 + len2 - 1
	}
	return ofs1 <= last2 && ofs2 <= last1
}

// brlConflict reports whether lock b may not be granted while a is held:
// shared locks never conflict with each other; a shared lock stacks on an
// exclusive one held by the same open; anything else conflicts where the
// ranges overlap (so the same open cannot take two overlapping exclusive
// locks, nor an exclusive one over its own shared lock).
func brlConflict(a, b LockRequest) bool {
	if !a.Exclusive && !b.Exclusive {
		return false
	}
	if a.Exclusive && !b.Exclusive && a.Open == b.Open {
		return false
	}
	return byteRangeOverlap(a.Offset, a.Length, b.Offset, b.Length)
}

// brlConflictIO reports whether lock l blocks an I/O probe: reads are
// blocked by other opens' exclusive locks, writes by any other open's
// lock and by the writer's own shared locks.
func brlConflictIO(l LockRequest, id OpenID, offset, length uint64, write bool) bool {
	if !l.Exclusive && !write {
		return false
	}
	if !byteRangeOverlap(l.Offset, l.Length, offset, length) {
		return false
	}
	if l.Open != id {
		return true
	}
	return !l.Exclusive && write
}

// Lock grants a byte-range lock to an open of k or fails at once with
// ErrLockNotGranted; ErrInvalidLockRange when offset+length-1 overflows,
// ErrNoSuchOpen for an unknown open. A blocking lock takes Changed(k)
// first, tries Lock, and waits on the channel (or its context) before
// trying again. It never blocks.
func (t *Table) Lock(k Key, l LockRequest) error {
	if !validRange(l.Offset, l.Length) {
		return ErrInvalidLockRange
	}
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return ErrNoSuchOpen
	}
	if _, o := e.findOpen(l.Open); o == nil {
		return ErrNoSuchOpen
	}
	for _, x := range e.locks {
		if brlConflict(x, l) {
			return ErrLockNotGranted
		}
	}
	e.locks = append(e.locks, l)
	return nil
}

// Unlock releases the earliest-granted lock the open holds with exactly
// this offset and length (whatever its type, as Samba's
// brl_unlock_windows_default), else ErrRangeNotLocked. Waiters on k are woken. It never blocks.
func (t *Table) Unlock(k Key, l LockRequest) error {
	if !validRange(l.Offset, l.Length) {
		return ErrInvalidLockRange
	}
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return ErrRangeNotLocked
	}
	found := -1
	for i, x := range e.locks {
		if x.Open == l.Open && x.Offset == l.Offset && x.Length == l.Length {
			found = i
			break
		}
	}
	if found < 0 {
		return ErrRangeNotLocked
	}
	e.locks = append(e.locks[:found], e.locks[found+1:]...)
	s.wake(k)
	return nil
}

// CheckIO reports whether open id may read (write false) or write the
// range: ErrFileLockConflict when another open's exclusive lock (read) or
// any lock of another open or a shared lock of its own (write) overlaps
// it. Zero-length I/O never conflicts. It never blocks.
func (t *Table) CheckIO(k Key, id OpenID, offset, length uint64, write bool) error {
	if length == 0 {
		return nil
	}
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return nil
	}
	for _, l := range e.locks {
		if brlConflictIO(l, id, offset, length, write) {
			return ErrFileLockConflict
		}
	}
	return nil
}
