package table

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The randomized property test drives a Table with random operation
// sequences over a few keys, opens and nodes, and after every step checks
//   - CheckInvariant, and an independent re-check of the same rules from
//     the public Records (so a bug shared by the code and CheckInvariant
//     does not hide);
//   - that no waiter was lost: a waiter whose channel is still open must
//     still fail when it retries;
//   - that Export+Import into a fresh table reproduces the records.

var (
	propKeys  = []Key{{"a", 1}, {"a", 2}, {"b", 1}}
	propNodes = []string{"n1", "n2", "n3"}
)

var propAccess = []uint32{
	FileReadData, FileWriteData, FileReadData | FileWriteData, FileReadData | Delete,
	FileReadAttributes, FileReadAttributes | Synchronize, ReadControl, GenericRead,
	GenericAll, FileAppendData, FileExecute,
}

type waiter struct {
	key  Key
	ch   <-chan struct{}
	lock *LockRequest // blocking lock, or
	open *Open        // pending open
	disp uint32
}

type propState struct {
	t       testing.TB
	rng     *rand.Rand
	tb      *Table
	breaks  []Break // delivered, awaiting ack or timeout
	waiters []waiter
	steps   int
	log     []string
}

func (p *propState) logf(format string, args ...any) {
	p.log = append(p.log, fmt.Sprintf(format, args...))
	if len(p.log) > 40 {
		p.log = p.log[1:]
	}
}

func (p *propState) fail(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("step %d: %s\nlast operations:\n  %s", p.steps, fmt.Sprintf(format, args...),
		fmt.Sprint(slices.Clone(p.log)))
}

func (p *propState) randOpenID() OpenID {
	return OpenID{Node: propNodes[p.rng.IntN(len(propNodes))], ID: uint64(p.rng.IntN(4))}
}

// existing picks a recorded open of k, if any.
func (p *propState) existing(k Key) (OpenID, bool) {
	var ids []OpenID
	for _, r := range p.tb.Records(k) {
		if r.Kind == RecordOpen {
			ids = append(ids, r.Open.ID)
		}
	}
	if len(ids) == 0 {
		return OpenID{}, false
	}
	return ids[p.rng.IntN(len(ids))], true
}

func (p *propState) randOpen() Open {
	o := Open{
		ID:          p.randOpenID(),
		Access:      propAccess[p.rng.IntN(len(propAccess))],
		ShareAccess: uint32(p.rng.IntN(8)),
	}
	switch p.rng.IntN(6) {
	case 0:
		o.Oplock = OplockNone
	case 1:
		o.Oplock = OplockLevelII
	case 2:
		o.Oplock = OplockExclusive
	case 3:
		o.Oplock = OplockBatch
	default:
		o.Oplock = OplockLease
		o.ClientGUID = [16]byte{byte(p.rng.IntN(2))}
		o.LeaseKey = [16]byte{byte(1 + p.rng.IntN(3))}
		o.LeaseState = uint32(p.rng.IntN(8))
		o.LeaseVersion = 1 + p.rng.IntN(2)
	}
	if o.Access&Delete != 0 && p.rng.IntN(3) == 0 {
		o.DeleteOnClose = true
	}
	return o
}

func (p *propState) randRange() (uint64, uint64) {
	switch p.rng.IntN(10) {
	case 0:
		return math.MaxUint64 - uint64(p.rng.IntN(3)), uint64(p.rng.IntN(4))
	case 1:
		return 0, 0
	}
	return uint64(p.rng.IntN(24)), uint64(p.rng.IntN(6))
}

func (p *propState) deliver(bs []Break) {
	for _, b := range bs {
		if b.AckRequired {
			p.breaks = append(p.breaks, b)
		}
	}
}

func (p *propState) step() {
	p.steps++
	k := propKeys[p.rng.IntN(len(propKeys))]
	switch op := p.rng.IntN(100); {
	case op < 25: // open
		o := p.randOpen()
		disp := uint32(p.rng.IntN(6))
		ch := p.tb.Changed(k)
		res, err := p.tb.OpenFile(k, o, disp)
		p.logf("open %v %v acc=%#x sh=%d op=%#x ls=%s disp=%d -> pending=%v breaks=%d err=%v",
			k, o.ID, o.Access, o.ShareAccess, o.Oplock, leaseString(o.LeaseState), disp, res.Pending, len(res.Breaks), err)
		p.deliver(res.Breaks)
		if err == nil && res.Pending {
			p.waiters = append(p.waiters, waiter{key: k, ch: ch, open: &o, disp: disp})
		}
	case op < 37: // close
		if id, ok := p.existing(k); ok {
			cr, err := p.tb.CloseFile(k, id)
			p.logf("close %v %v -> %+v %v", k, id, cr, err)
			if err != nil {
				p.fail("close of recorded open %v: %v", id, err)
			}
		}
	case op < 55: // lock
		if id, ok := p.existing(k); ok {
			off, ln := p.randRange()
			l := LockRequest{Open: id, Offset: off, Length: ln, Exclusive: p.rng.IntN(2) == 0}
			ch := p.tb.Changed(k)
			err := p.tb.Lock(k, l)
			p.logf("lock %v %+v -> %v", k, l, err)
			if errors.Is(err, ErrLockNotGranted) && p.rng.IntN(2) == 0 {
				p.waiters = append(p.waiters, waiter{key: k, ch: ch, lock: &l})
			}
		}
	case op < 67: // unlock one of the locks held, or a random range
		recs := p.tb.Records(k)
		var locks []LockRequest
		for _, r := range recs {
			if r.Kind == RecordLock {
				locks = append(locks, r.Lock)
			}
		}
		if len(locks) > 0 {
			l := locks[p.rng.IntN(len(locks))]
			if err := p.tb.Unlock(k, l); err != nil {
				p.fail("unlock of held lock %+v: %v", l, err)
			}
			p.logf("unlock %v %+v", k, l)
		} else if id, ok := p.existing(k); ok {
			off, ln := p.randRange()
			err := p.tb.Unlock(k, LockRequest{Open: id, Offset: off, Length: ln})
			if err == nil {
				p.fail("unlock of a range never locked succeeded")
			}
		}
	case op < 77: // ack a break, usually correctly
		if len(p.breaks) == 0 {
			return
		}
		i := p.rng.IntN(len(p.breaks))
		b := p.breaks[i]
		p.breaks = slices.Delete(p.breaks, i, i+1)
		a := BreakAck{Open: b.Open, Oplock: b.OplockTo, Lease: b.Lease, ClientGUID: b.ClientGUID,
			LeaseKey: b.LeaseKey, LeaseState: b.LeaseTo}
		if p.rng.IntN(5) == 0 {
			a.Oplock = []uint8{OplockNone, OplockLevelII, OplockBatch, OplockLease}[p.rng.IntN(4)]
			a.LeaseState = uint32(p.rng.IntN(8))
		}
		err := p.tb.AckBreak(b.Key, a)
		p.logf("ack %v %+v -> %v", b.Key, a, err)
	case op < 82: // time a break out
		if len(p.breaks) == 0 {
			return
		}
		i := p.rng.IntN(len(p.breaks))
		b := p.breaks[i]
		p.breaks = slices.Delete(p.breaks, i, i+1)
		p.tb.BreakTimedOut(b.Key, b)
		p.logf("timeout %v seq %d", b.Key, b.Seq)
	case op < 87: // delete on close
		if id, ok := p.existing(k); ok {
			err := p.tb.SetDeleteOnClose(k, id, p.rng.IntN(3) != 0)
			p.logf("set-doc %v %v -> %v", k, id, err)
		}
	case op < 92: // write: break level II
		if id, ok := p.existing(k); ok {
			bs := p.tb.ContendLevel2(k, id)
			p.deliver(bs)
			p.logf("contend %v %v -> %d breaks", k, id, len(bs))
		}
	case op < 95: // CheckIO must agree with an independent reading of the locks
		if id, ok := p.existing(k); ok {
			off, ln := p.randRange()
			write := p.rng.IntN(2) == 0
			err := p.tb.CheckIO(k, id, off, ln, write)
			if want := ioConflictFromRecords(p.tb.Records(k), id, off, ln, write); want != (err != nil) {
				p.fail("CheckIO(%v,%d,%d,%v) = %v, records say conflict=%v", id, off, ln, write, err, want)
			}
		}
	case op < 97: // a node dies
		n := propNodes[p.rng.IntN(len(propNodes))]
		keys := p.tb.DropNode(n)
		p.logf("drop %s -> %v", n, keys)
		for _, k := range p.tb.Keys() {
			for _, r := range p.tb.Records(k) {
				if r.Kind == RecordOpen && r.Open.ID.Node == n || r.Kind == RecordLock && r.Lock.Open.Node == n {
					p.fail("record of dropped node %s survived: %+v", n, r)
				}
			}
		}
		p.breaks = slices.DeleteFunc(p.breaks, func(b Break) bool { return b.Owner == n })
	default: // move everything to a new home
		fresh := New(Config{Shards: 1 + p.rng.IntN(8)})
		recs := p.tb.Export(nil)
		if err := fresh.Import(recs); err != nil {
			p.fail("import of a consistent export: %v", err)
		}
		for _, k := range p.tb.Keys() {
			a, b := p.tb.Records(k), fresh.Records(k)
			if !slices.Equal(a, b) {
				p.fail("records of %v differ after export/import:\n%+v\n%+v", k, a, b)
			}
		}
		p.logf("moved %d records to a new table", len(recs))
		p.tb = fresh
		// Old sequence numbers mean nothing to the new home: the waiters
		// retry there and learn the breaks in flight.
		p.breaks = nil
		p.waiters = nil
		for _, k := range propKeys {
			p.waitersFromInFlight(k)
		}
	}
	p.check()
}

// waitersFromInFlight re-learns in-flight breaks after a move, as a
// waiting open would by retrying.
func (p *propState) waitersFromInFlight(k Key) {
	for _, r := range p.tb.Records(k) {
		if r.Kind != RecordOpen || !r.Breaking {
			continue
		}
		o := Open{ID: OpenID{Node: "probe", ID: 1}, Access: FileReadData | FileWriteData, ShareAccess: 7}
		res, err := p.tb.OpenFile(k, o, FileOpen)
		if err == nil && !res.Pending {
			p.tb.CloseFile(k, o.ID)
		}
		p.deliver(res.Breaks)
		for _, b := range res.InFlight {
			if !slices.ContainsFunc(p.breaks, func(x Break) bool { return x.Seq == b.Seq }) {
				p.breaks = append(p.breaks, b)
			}
		}
		return
	}
}

func (p *propState) check() {
	p.t.Helper()
	if err := p.tb.CheckInvariant(); err != nil {
		p.fail("%v", err)
	}
	for _, k := range p.tb.Keys() {
		if err := checkRecords(p.tb.Records(k)); err != nil {
			p.fail("key %v: %v", k, err)
		}
	}
	// No lost wake-ups: a waiter not woken must still fail.
	kept := p.waiters[:0]
	for _, w := range p.waiters {
		woken := false
		select {
		case <-w.ch:
			woken = true
		default:
		}
		ch := w.ch
		if woken {
			ch = p.tb.Changed(w.key)
		}
		// granted: the retry succeeded; failed: it failed for good (a
		// new conflicting grant, its open closed) and stops waiting.
		var granted, failed bool
		if w.lock != nil {
			err := p.tb.Lock(w.key, *w.lock)
			granted = err == nil
			failed = err != nil && !errors.Is(err, ErrLockNotGranted)
		} else {
			res, err := p.tb.OpenFile(w.key, *w.open, w.disp)
			p.deliver(res.Breaks)
			granted = err == nil && !res.Pending
			failed = err != nil
		}
		if granted && !woken {
			p.fail("lost wake-up: %v waiter (lock %+v, open %+v) now succeeds but its channel is open", w.key, w.lock, w.open)
		}
		if !granted && !failed {
			w.ch = ch
			kept = append(kept, w)
		}
	}
	p.waiters = kept
	if err := p.tb.CheckInvariant(); err != nil {
		p.fail("after waiters: %v", err)
	}
}

// checkRecords re-checks the invariant from the public records only, with
// the rules written out independently of the implementation.
func checkRecords(recs []Record) error {
	var opens []Record
	var locks []LockRequest
	for _, r := range recs {
		switch r.Kind {
		case RecordOpen:
			opens = append(opens, r)
		case RecordLock:
			locks = append(locks, r.Lock)
		}
	}
	data := func(o Open) (read, write, del bool) {
		a := o.Access
		if a&(GenericAll|MaximumAllowed) != 0 {
			return true, true, true
		}
		read = a&(FileReadData|FileExecute|GenericRead|GenericExecute) != 0
		write = a&(FileWriteData|FileAppendData|GenericWrite) != 0
		del = a&Delete != 0
		return
	}
	caching := func(o Open) uint32 {
		if o.Oplock == OplockLease {
			return o.LeaseState
		}
		return map[uint8]uint32{OplockNone: 0, OplockLevelII: 1, OplockExclusive: 5, OplockBatch: 7}[o.Oplock]
	}
	sameLease := func(a, b Open) bool {
		return a.Oplock == OplockLease && b.Oplock == OplockLease && a.ClientGUID == b.ClientGUID && a.LeaseKey == b.LeaseKey
	}
	for i, a := range opens {
		ar, aw, ad := data(a.Open)
		for j, b := range opens {
			if i == j {
				continue
			}
			br, bw, bd := data(b.Open)
			if (ar || aw || ad) && (br || bw || bd) {
				if aw && b.Open.ShareAccess&FileShareWrite == 0 ||
					ar && b.Open.ShareAccess&FileShareRead == 0 ||
					ad && b.Open.ShareAccess&FileShareDelete == 0 {
					return fmt.Errorf("share conflict between %v and %v", a.Open.ID, b.Open.ID)
				}
			}
			losingWrite := a.Breaking && a.BreakTo&LeaseWrite == 0 // break in flight
			if caching(a.Open)&LeaseWrite != 0 && !losingWrite && !sameLease(a.Open, b.Open) &&
				(caching(b.Open) != 0 || br || bw || bd) {
				return fmt.Errorf("%v caches writes next to %v", a.Open.ID, b.Open.ID)
			}
		}
	}
	inRange := func(l LockRequest) (first, last uint64, empty bool) {
		if l.Length == 0 {
			return l.Offset, l.Offset, true
		}
		return l.Offset, l.Offset + l.Length - 1, false
	}
	for i, a := range locks {
		if a.Length > 0 && a.Offset+a.Length-1 < a.Offset {
			return fmt.Errorf("lock %+v overflows", a)
		}
		for _, b := range locks[i+1:] {
			if !a.Exclusive && !b.Exclusive || a.Exclusive && !b.Exclusive && a.Open == b.Open {
				continue
			}
			af, al, ae := inRange(a)
			bf, bl, be := inRange(b)
			var overlap bool
			switch {
			case ae && be:
			case ae:
				overlap = af > 0 && bf < af && af <= bl
			case be:
				overlap = bf > 0 && af < bf && bf <= al
			default:
				overlap = af <= bl && bf <= al
			}
			if overlap {
				return fmt.Errorf("locks %+v and %+v conflict", a, b)
			}
		}
	}
	return nil
}

func ioConflictFromRecords(recs []Record, id OpenID, off, ln uint64, write bool) bool {
	if ln == 0 {
		return false
	}
	last := off + ln - 1
	if last < off {
		last = math.MaxUint64
	}
	for _, r := range recs {
		if r.Kind != RecordLock {
			continue
		}
		l := r.Lock
		if l.Length == 0 {
			if l.Offset == 0 || !(off < l.Offset && l.Offset <= last) {
				continue
			}
		} else if !(l.Offset <= last && off <= l.Offset+l.Length-1) {
			continue
		}
		if l.Open != id && (l.Exclusive || write) || l.Open == id && !l.Exclusive && write {
			return true
		}
	}
	return false
}

func runProperty(t testing.TB, seed uint64, steps int) {
	p := &propState{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), tb: New(Config{Shards: 4})}
	for range steps {
		p.step()
	}
}

func TestPropertyRandomSchedules(t *testing.T) {
	schedules, steps := 2000, 300
	if testing.Short() {
		schedules, steps = 300, 200
	}
	for seed := range uint64(schedules) {
		runProperty(t, seed, steps)
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
	t.Logf("%d randomized schedules of %d steps checked", schedules, steps)
}

// FuzzTableOps drives the same random schedules from fuzzer-chosen seeds.
func FuzzTableOps(f *testing.F) {
	f.Add(uint64(1), uint16(100))
	f.Add(uint64(42), uint16(500))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint16) {
		runProperty(t, seed, int(steps%1000))
	})
}
