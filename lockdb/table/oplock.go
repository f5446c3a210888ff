package table

// Oplocks and leases share one vocabulary here, as in Samba: an oplock
// level is treated as the lease state it caches (batch = RWH, exclusive =
// RW, level II = R) when deciding breaks and grants.

func oplockToLease(level uint8) uint32 {
	switch level {
	case OplockBatch:
		return LeaseRead | LeaseWrite | LeaseHandle
	case OplockExclusive:
		return LeaseRead | LeaseWrite
	case OplockLevelII:
		return LeaseRead
	}
	return LeaseNone
}

// leaseToOplock is Samba's map_lease_type_to_oplock.
func leaseToOplock(state uint32) uint8 {
	switch state {
	case LeaseRead | LeaseWrite | LeaseHandle:
		return OplockBatch
	case LeaseRead | LeaseWrite:
		return OplockExclusive
	case LeaseRead | LeaseHandle, LeaseRead:
		return OplockLevelII
	}
	return OplockNone
}

// normalizeLease drops a lease state without R to none: Samba grants no
// lease without read caching.
func normalizeLease(s uint32) uint32 {
	s &= LeaseRead | LeaseWrite | LeaseHandle
	if s&LeaseRead == 0 {
		return LeaseNone
	}
	return s
}

// cacheState is what an open caches: its lease's state or its oplock level
// as lease bits.
func (o *openRec) cacheState() uint32 {
	if o.lease != nil {
		return o.lease.state
	}
	return oplockToLease(o.Oplock)
}

// losingWrite reports whether o's write caching is being broken away.
func (o *openRec) losingWrite() bool {
	if l := o.lease; l != nil {
		return l.breaking && l.breakTo&LeaseWrite == 0
	}
	return o.breaking && oplockToLease(o.breakTo)&LeaseWrite == 0
}

// leaseOwner picks the open a lease break is delivered through.
func (e *entry) leaseOwner(l *leaseRec) *openRec {
	for _, o := range e.opens {
		if o.lease == l {
			return o
		}
	}
	return nil
}

func (o *openRec) inFlight(k Key) Break {
	return Break{
		Key: k, Seq: o.breakSeq, Owner: o.breakOwner, Open: o.ID,
		OplockFrom: o.Oplock, OplockTo: o.breakTo, AckRequired: true,
	}
}

func (l *leaseRec) inFlight(k Key, via OpenID) Break {
	return Break{
		Key: k, Seq: l.breakSeq, Owner: l.breakOwner, Open: via, Lease: true,
		ClientGUID: l.clientGUID, LeaseKey: l.key, LeaseVersion: l.version,
		LeaseFrom: l.state, LeaseTo: l.breakTo, NewEpoch: l.wireEpoch(), AckRequired: true,
	}
}

// breakOplock starts breaking o to level to. Breaks from level II need no
// acknowledgment and apply at once.
func (s *shard) breakOplock(k Key, o *openRec, to uint8) Break {
	b := Break{
		Key: k, Seq: s.nextSeq(), Owner: o.ID.Node, Open: o.ID,
		OplockFrom: o.Oplock, OplockTo: to,
		AckRequired: oplockToLease(o.Oplock)&(LeaseWrite|LeaseHandle) != 0,
	}
	if b.AckRequired {
		o.breaking, o.breakTo, o.breakSeq, o.breakOwner = true, to, b.Seq, b.Owner
	} else {
		o.Oplock = to
	}
	return b
}

// breakLease starts breaking l to state to (MS-SMB2 3.3.4.7, Samba's
// process_oplock_break_message). The epoch moves on with every break, as
// in Samba, which keeps every lease as v2 internally; a v1 break carries
// epoch 0. A lease holding neither W nor H breaks without acknowledgment
// and applies at once. A lease already breaking gets no second break: what
// it must reach (breakReq) narrows instead, and an acknowledgment above it
// is answered with a further break (AckBreak).
func (s *shard) breakLease(k Key, e *entry, l *leaseRec, to uint32) (Break, bool) {
	if l.breaking {
		l.breakReq &= to
		return Break{}, false
	}
	via := e.leaseOwner(l)
	l.epoch++
	b := Break{
		Key: k, Seq: s.nextSeq(), Owner: via.ID.Node, Open: via.ID, Lease: true,
		ClientGUID: l.clientGUID, LeaseKey: l.key, LeaseVersion: l.version,
		LeaseFrom: l.state, LeaseTo: to, NewEpoch: l.wireEpoch(),
		AckRequired: l.state&(LeaseWrite|LeaseHandle) != 0,
	}
	if b.AckRequired {
		l.breaking, l.breakTo, l.breakReq, l.breakSeq, l.breakOwner = true, to, to, b.Seq, b.Owner
	} else {
		l.state = to
	}
	return b, true
}

// wireEpoch is the epoch a break notification carries: the lease's for
// v2, zero for v1 (Samba's send_break_message_smb2).
func (l *leaseRec) wireEpoch() uint16 {
	if l.version == 2 {
		return l.epoch
	}
	return 0
}

// takeFollowUps moves the further breaks AckBreak decided into out.
func (e *entry) takeFollowUps(out []Break) []Break {
	for _, l := range e.leases {
		if l.followUp != nil {
			out = append(out, *l.followUp)
			l.followUp = nil
		}
	}
	return out
}

// delayForOplock is Samba's delay_for_oplock: it starts the breaks a new
// open needs and reports whether the open has to wait for them. Write
// caching is always broken; handle caching too when the open is a sharing
// violation (the holder may close and so resolve it); an overwrite breaks
// everything to none. Oplocks break only to level II or none.
func (t *Table) delayForOplock(s *shard, k Key, e *entry, o *Open, access uint32,
	sharingViolation, overwrite bool, res *Result) (delay bool) {
	delayMask := LeaseWrite
	if sharingViolation {
		delayMask = LeaseHandle
	}
	// need is what must go from cur (Samba's first break_to); the break
	// itself then goes further: to none on overwrite, to R or none for
	// oplocks.
	need := func(cur uint32) uint32 {
		to := cur &^ delayMask
		if overwrite && delayMask&LeaseHandle == 0 {
			to &^= LeaseHandle | LeaseRead
		}
		return cur &^ to
	}
	target := func(cur uint32, lease bool) uint32 {
		to := cur &^ need(cur)
		if overwrite && delayMask&LeaseHandle == 0 {
			to &^= LeaseRead | LeaseWrite
		}
		if !lease {
			to &^= LeaseHandle | LeaseWrite
		}
		return to
	}

	for _, x := range e.opens {
		if x.lease != nil || x.Oplock == OplockNone {
			continue
		}
		cur := oplockToLease(x.Oplock)
		if need(cur) == 0 {
			continue
		}
		if cur&delayMask != 0 {
			delay = true
		}
		if x.breaking {
			res.InFlight = append(res.InFlight, x.inFlight(k))
			continue
		}
		res.Breaks = append(res.Breaks, s.breakOplock(k, x, leaseToOplock(target(cur, false))))
	}

	res.Breaks = e.takeFollowUps(res.Breaks)
	if isLeaseStatOpen(access) {
		return delay
	}
	for _, l := range e.leases {
		if o.Oplock == OplockLease && l.clientGUID == o.ClientGUID && l.key == o.LeaseKey {
			continue // a client never breaks its own lease
		}
		cur := l.state
		if need(cur) == 0 && !l.breaking {
			continue
		}
		if l.breaking {
			// Samba's delay_for_oplock_fn: no second break, but what the
			// lease must reach narrows; the first attempt waits only when
			// the lease is in its way, a retry while it still breaks.
			if need(cur) == 0 || cur&delayMask != 0 || o.Retry {
				delay = true
			}
			if need(cur) != 0 {
				l.breakReq &= normalizeLease(target(cur, true))
			}
			res.InFlight = append(res.InFlight, l.inFlight(k, e.leaseOwner(l).ID))
			continue
		}
		if cur&delayMask != 0 {
			delay = true
		}
		if b, ok := s.breakLease(k, e, l, normalizeLease(target(cur, true))); ok {
			res.Breaks = append(res.Breaks, b)
		}
	}
	return delay
}

// grant decides the caching a new open gets (Samba's delay_for_oplock
// "grant:" part, try_lease_upgrade and grant_new_fsp_lease) and records it
// in rec and res. Write caching only for an open that is alone apart from
// stat opens and its own lease; nothing at all while another open caches
// writes (a stat open does not break it); no handle caching for a lease
// next to an oplock, no oplock next to a handle lease.
func (t *Table) grant(e *entry, rec *openRec, access uint32, overwrite bool, res *Result) {
	o := &rec.Open
	isLease := o.Oplock == OplockLease
	var own *leaseRec
	var requested uint32
	if isLease {
		requested = o.LeaseState & (LeaseRead | LeaseWrite | LeaseHandle)
		own = e.findLease(o.ClientGUID, o.LeaseKey)
	} else {
		requested = oplockToLease(o.Oplock)
	}

	var disallowWrite, gotHandle, gotOplock, otherWrite, keptWrite bool
	for _, x := range e.opens {
		same := own != nil && x.lease == own
		xs := x.cacheState()
		if xs&LeaseHandle != 0 {
			gotHandle = true
		}
		if x.lease == nil && x.Oplock != OplockNone {
			gotOplock = true
		}
		if !same && (x.Oplock != OplockNone || !isOplockStatOpen(mapGeneric(x.Access))) {
			disallowWrite = true
		}
		if !same && xs&LeaseWrite != 0 {
			otherWrite = true // only a stat open gets here past delayForOplock
			if !x.losingWrite() {
				keptWrite = true
			}
		}
	}

	granted := requested
	if isLease {
		granted = normalizeLease(granted)
		if granted == LeaseWrite || granted == LeaseWrite|LeaseHandle {
			granted = LeaseNone
		}
	}
	if !overwrite && len(e.locks) > 0 {
		granted &^= LeaseRead | LeaseHandle
	}
	if disallowWrite {
		granted &^= LeaseWrite
	}
	if otherWrite {
		granted = LeaseNone
	}

	if !isLease {
		if isOplockStatOpen(access) {
			// Samba grants a stat open what it asked for without looking
			// at other opens (delay_for_oplock's "goto grant"); here at
			// most level II next to other opens, and nothing next to
			// one that still keeps write caching (smb2.oplock.exclusive5,
			// batch13: the overwriting stat open broke the others first).
			granted = requested
			if !overwrite && len(e.locks) > 0 {
				granted &^= LeaseRead | LeaseHandle
			}
			if len(e.opens) > 0 {
				granted &= LeaseRead
			}
			if keptWrite {
				granted = LeaseNone
			}
			gotHandle = false
		}
		if gotHandle {
			granted = LeaseNone
		}
		rec.Oplock = leaseToOplock(granted)
		res.Oplock = rec.Oplock
		return
	}

	if gotOplock {
		granted &^= LeaseHandle
	}
	granted = normalizeLease(granted)
	if own != nil {
		existing := own.state
		if existing&requested == existing && granted != existing && granted == requested && !own.breaking {
			own.state = granted
			own.epoch++
		}
	} else {
		// Samba's grant_new_fsp_lease: the client's epoch plus one, even
		// when nothing is granted.
		own = &leaseRec{
			clientGUID: o.ClientGUID, key: o.LeaseKey, parent: o.ParentLeaseKey,
			version: o.LeaseVersion, state: granted, epoch: o.LeaseEpoch + 1,
		}
		e.leases = append(e.leases, own)
	}
	own.refs++
	rec.lease = own
	rec.Oplock = OplockLease
	res.Oplock = OplockLease
	res.LeaseState = own.state
	res.LeaseEpoch = own.epoch
	res.LeaseVersion = own.version
	res.LeaseBreaking = own.breaking
}

// AckBreak records a client's answer to a break (MS-SMB2 3.3.5.22). For an
// oplock: ErrNoSuchOpen, ErrNotBreaking, ErrInvalidParameter (ack with the
// lease level; the oplock drops to none) or ErrInvalidOplockProtocol (a
// level above the break's; the oplock drops to none). For a lease:
// ErrNoSuchLease, ErrNotBreaking, ErrRequestNotAccepted (state not within
// the break's), ErrInvalidParameter (a state without R other than none). Waiters on k are woken. It never blocks.
func (t *Table) AckBreak(k Key, a BreakAck) error {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if a.Lease {
		var l *leaseRec
		if e != nil {
			l = e.findLease(a.ClientGUID, a.LeaseKey)
		}
		if l == nil {
			return ErrNoSuchLease
		}
		if !l.breaking {
			return ErrNotBreaking
		}
		if a.LeaseState&^l.breakTo != 0 {
			return ErrRequestNotAccepted
		}
		if normalizeLease(a.LeaseState) != a.LeaseState {
			return ErrInvalidParameter // W or WH without R
		}
		l.state = a.LeaseState
		l.breaking = false
		if a.LeaseState&^l.breakReq != 0 {
			// Not broken far enough for a conflict that came while the
			// break was in flight: break again, in steps (W and H first,
			// keeping R) as Windows does (Samba's downgrade_lease).
			to := l.breakReq
			if l.state&(LeaseWrite|LeaseHandle) != 0 {
				to |= LeaseRead
			}
			via := e.leaseOwner(l)
			b := Break{
				Key: k, Seq: s.nextSeq(), Owner: via.ID.Node, Open: via.ID, Lease: true,
				ClientGUID: l.clientGUID, LeaseKey: l.key, LeaseVersion: l.version,
				LeaseFrom: l.state, LeaseTo: to, NewEpoch: l.wireEpoch(),
				AckRequired: l.state&(LeaseWrite|LeaseHandle) != 0,
			}
			if b.AckRequired {
				l.breaking, l.breakTo, l.breakSeq, l.breakOwner = true, to, b.Seq, b.Owner
			} else {
				l.state = LeaseNone
			}
			l.followUp = &b
		}
		s.wake(k)
		return nil
	}
	if e == nil {
		return ErrNoSuchOpen
	}
	_, o := e.findOpen(a.Open)
	if o == nil {
		return ErrNoSuchOpen
	}
	if o.lease != nil || !o.breaking {
		return ErrNotBreaking
	}
	defer s.wake(k)
	o.breaking = false
	switch {
	case a.Oplock == OplockLease:
		o.Oplock = OplockNone
		return ErrInvalidParameter
	case a.Oplock != OplockNone && a.Oplock != OplockLevelII,
		oplockToLease(a.Oplock)&^oplockToLease(o.breakTo) != 0:
		o.Oplock = OplockNone
		return ErrInvalidOplockProtocol
	}
	o.Oplock = a.Oplock
	return nil
}

// BreakTimedOut ends a break whose acknowledgment did not arrive in time
// (MS-SMB2 3.3.2.1 oplock break acknowledgment timer): the oplock or lease
// drops to none and waiters are woken. It does nothing when that break
// (matched by b.Seq) is no longer in flight. It never blocks.
func (t *Table) BreakTimedOut(k Key, b Break) {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return
	}
	if b.Lease {
		if l := e.findLease(b.ClientGUID, b.LeaseKey); l != nil && l.breaking && l.breakSeq == b.Seq {
			l.state, l.breaking = LeaseNone, false
			s.wake(k)
		}
		return
	}
	if _, o := e.findOpen(b.Open); o != nil && o.breaking && o.breakSeq == b.Seq {
		o.Oplock, o.breaking = OplockNone, false
		s.wake(k)
	}
}

// ContendLevel2 is Samba's contend_level2_oplocks_begin: before a write,
// a lock or a truncate through open id, every other oplock (all of them
// cache reads) and every lease with read caching other than the writer's
// own lease is broken to none; a lease already breaking only narrows to
// none. The returned breaks are to be delivered; those with AckRequired
// (exclusive and batch oplocks, leases with W or H) are awaited like any
// other, but the writer does not wait. It never blocks.
func (t *Table) ContendLevel2(k Key, id OpenID) []Break {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return nil
	}
	_, self := e.findOpen(id)
	var own *leaseRec
	if self != nil {
		own = self.lease
		if self.cacheState()&LeaseWrite != 0 {
			return nil // alone: nobody else caches reads
		}
	}
	out := e.takeFollowUps(nil)
	for _, l := range e.leases {
		if l == own || l.state&LeaseRead == 0 {
			continue
		}
		if b, ok := s.breakLease(k, e, l, LeaseNone); ok {
			out = append(out, b)
		}
	}
	for _, x := range e.opens {
		// Every oplock caching reads goes, exclusive and batch too
		// (Samba's contend_level2_oplocks_begin: a stat open that
		// overwrites breaks a batch oplock to none, smb2.oplock.batch13),
		// the writer's own level II too (smb2.oplock.batch1).
		if x.lease == nil && x.Oplock != OplockNone && !x.breaking {
			out = append(out, s.breakOplock(k, x, OplockNone))
		}
	}
	if len(out) > 0 {
		s.wake(k)
	}
	return out
}
