package table

import (
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
)

// Table holds the share modes, oplocks, leases and byte-range locks of the
// keys homed on one node and decides every grant for them. It is safe for
// concurrent use: every decision for a key is made under that key's shard
// mutex against every record of the key, which is what makes the invariant
// (no two conflicting grants) hold for this home. It starts no goroutines.
type Table struct {
	cfg    Config
	log    *slog.Logger
	seed   maphash.Seed
	shards []shard
}

type shard struct {
	mu      sync.Mutex
	entries map[Key]*entry
	waiters map[Key]chan struct{}
	seq     uint64 // break sequence numbers, unique per shard (high bits: shard)
	_       [40]byte
}

// entry is everything recorded for one key: Samba's share_mode_data,
// leases_db rows and brlock array in one place.
type entry struct {
	opens         []*openRec
	leases        []*leaseRec
	locks         []LockRequest
	deletePending bool
	// retrying are opens that were answered Pending and have not been
	// decided yet: their next attempt is a retry (Open.Retry). An open
	// given up while waiting stays until the entry goes; the set is
	// bounded.
	retrying map[OpenID]struct{}
}

type openRec struct {
	Open                 // Oplock and lease fields: see oplock/lease
	lease      *leaseRec // nil unless Oplock == OplockLease
	breaking   bool      // oplock break in flight (non-lease opens)
	breakTo    uint8
	breakSeq   uint64
	breakOwner string
}

type leaseRec struct {
	clientGUID [16]byte
	key        [16]byte
	parent     [16]byte
	version    int
	state      uint32
	epoch      uint16
	breaking   bool
	breakTo    uint32 // Samba's breaking_to_requested: what the break asked for
	// breakReq is Samba's breaking_to_required: later conflicts narrow it
	// while the break is in flight; an ack above it is answered with a
	// further break.
	breakReq   uint32
	breakSeq   uint64
	breakOwner string
	// followUp is a further break decided by AckBreak, handed to the
	// next caller that delivers breaks (a waiting open's retry).
	followUp *Break
	refs     int
}

// New returns an empty Table. An invalid cfg is replaced field by field with
// DefaultConfig values.
func New(cfg Config) *Table {
	if cfg.Validate() != nil {
		cfg.Shards = DefaultConfig().Shards
	}
	t := &Table{
		cfg:    cfg,
		log:    cfg.logger(),
		seed:   maphash.MakeSeed(),
		shards: make([]shard, cfg.Shards),
	}
	for i := range t.shards {
		t.shards[i].entries = make(map[Key]*entry)
		t.shards[i].waiters = make(map[Key]chan struct{})
		t.shards[i].seq = uint64(i) << 48
	}
	return t
}

func (t *Table) shardIndex(k Key) int {
	h := maphash.String(t.seed, k.Share) ^ (k.Inode * 0x9e3779b97f4a7c15)
	h ^= h >> 29
	return int(h % uint64(len(t.shards)))
}

func (t *Table) shard(k Key) *shard { return &t.shards[t.shardIndex(k)] }

// nextSeq returns a break sequence number unique within the Table.
func (s *shard) nextSeq() uint64 {
	s.seq++
	return s.seq
}

// wake closes the channel handed out by Changed for k. Callers hold s.mu.
func (s *shard) wake(k Key) {
	if ch, ok := s.waiters[k]; ok {
		close(ch)
		delete(s.waiters, k)
	}
}

// gc forgets k when nothing is recorded for it any more.
func (s *shard) gc(k Key, e *entry) {
	if len(e.opens) == 0 && len(e.locks) == 0 && len(e.leases) == 0 {
		delete(s.entries, k)
	}
}

// Changed returns a channel that is closed at the next change of k that
// can let a waiter through: unlock, close, break ack or timeout, delete
// flag change, node drop, import. Take the channel BEFORE trying the
// operation, then wait on it only if the operation has to wait: a change
// between the try and the wait still closes the channel, so no wake-up is
// lost. Spurious wake-ups happen; retry and take a fresh channel.
func (t *Table) Changed(k Key) <-chan struct{} {
	s := t.shard(k)
	s.mu.Lock()
	ch, ok := s.waiters[k]
	if !ok {
		ch = make(chan struct{})
		s.waiters[k] = ch
	}
	s.mu.Unlock()
	return ch
}

// Keys lists every key with at least one record, in no particular order.
func (t *Table) Keys() []Key {
	var keys []Key
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for k := range s.entries {
			keys = append(keys, k)
		}
		s.mu.Unlock()
	}
	return keys
}

// Records lists the records of k (opens first, then locks in grant order)
// for admin display. The result is a copy.
func (t *Table) Records(k Key) []Record {
	s := t.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[k]
	if e == nil {
		return nil
	}
	return e.records(k, nil)
}

func (e *entry) records(k Key, out []Record) []Record {
	for _, o := range e.opens {
		out = append(out, o.record(k, e.deletePending))
	}
	for _, l := range e.locks {
		out = append(out, Record{Key: k, Kind: RecordLock, Lock: l})
	}
	return out
}

func (o *openRec) record(k Key, deletePending bool) Record {
	r := Record{Key: k, Kind: RecordOpen, Open: o.Open, DeletePending: deletePending}
	if l := o.lease; l != nil {
		r.Open.ClientGUID = l.clientGUID
		r.Open.LeaseKey = l.key
		r.Open.ParentLeaseKey = l.parent
		r.Open.LeaseVersion = l.version
		r.Open.LeaseState = l.state
		r.Open.LeaseEpoch = l.epoch
		if l.breaking {
			r.Breaking, r.BreakTo, r.BreakRequired = true, l.breakTo, l.breakReq
		}
	} else {
		r.Open.LeaseState = 0
		if o.breaking {
			r.Breaking, r.BreakTo = true, oplockToLease(o.breakTo)
		}
	}
	return r
}

func (e *entry) findOpen(id OpenID) (int, *openRec) {
	for i, o := range e.opens {
		if o.ID == id {
			return i, o
		}
	}
	return -1, nil
}

func (e *entry) findLease(clientGUID, key [16]byte) *leaseRec {
	for _, l := range e.leases {
		if l.clientGUID == clientGUID && l.key == key {
			return l
		}
	}
	return nil
}

// removeOpen drops open i with its byte-range locks and its lease
// reference. It does not apply delete-on-close.
func (e *entry) removeOpen(i int) {
	o := e.opens[i]
	e.opens = slices.Delete(e.opens, i, i+1)
	e.locks = slices.DeleteFunc(e.locks, func(l LockRequest) bool { return l.Open == o.ID })
	if l := o.lease; l != nil {
		l.refs--
		if l.refs == 0 {
			e.leases = slices.DeleteFunc(e.leases, func(x *leaseRec) bool { return x == l })
		}
	}
	if len(e.opens) == 0 {
		e.deletePending = false
	}
}
