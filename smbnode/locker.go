package smbnode

import (
	"context"
	"errors"
	"time"

	"shoal/lockdb/table"
)

// Locker is the cluster state an SMB node consults for every decision that
// two clients could disagree on: share modes and delete-on-close, byte-range
// locks, oplocks and leases. lockdb.Cluster implements it for a cluster; a
// node-local table serves a single node. All methods are safe for concurrent
// use; the ones taking a context block (through oplock/lease breaks, or for
// a blocking lock) until done or the context ends.
type Locker interface {
	// OpenFile records a new open after the share-mode check, waiting for
	// the breaks of conflicting oplocks/leases to be acknowledged.
	OpenFile(ctx context.Context, k table.Key, o table.Open, disposition uint32) (table.Result, error)
	CloseFile(ctx context.Context, k table.Key, id table.OpenID) (table.CloseResult, error)
	SetDeleteOnClose(ctx context.Context, k table.Key, id table.OpenID, on bool) error
	// Lock grants a byte-range lock; with wait it blocks until it can.
	Lock(ctx context.Context, k table.Key, l table.LockRequest, wait bool) error
	Unlock(ctx context.Context, k table.Key, l table.LockRequest) error
	CheckIO(ctx context.Context, k table.Key, id table.OpenID, offset, length uint64, write bool) error
	AckBreak(ctx context.Context, k table.Key, a table.BreakAck) error
	// ContendLevel2 breaks read caching of other opens before a write.
	ContendLevel2(ctx context.Context, k table.Key, writer table.OpenID)
	// IsOpen reports whether any client anywhere has the file open.
	IsOpen(ctx context.Context, k table.Key) bool
	// SetBreaker tells the Locker where to deliver breaks for this node's opens.
	SetBreaker(b Breaker)
	// LeaseFiles lists the files on which a client's lease key is held by
	// opens of any node (a lease ack may reach another node than the
	// lease's opens); a node-local Locker has none beyond its own opens.
	LeaseFiles(ctx context.Context, guid, key [16]byte) ([]table.Key, error)
}

// Breaker delivers a break to the client holding the oplock or lease. It
// must not block for long: it sends the notification and returns; the
// client's acknowledgment comes back through Locker.AckBreak.
type Breaker interface {
	Break(b table.Break)
}

// localLocker is a Locker for one node: every key is homed here.
type localLocker struct {
	node    string
	t       *table.Table
	breaker Breaker
	timeout time.Duration
}

func newLocalLocker(node string) *localLocker {
	return &localLocker{node: node, t: table.New(table.DefaultConfig()), timeout: 35 * time.Second}
}

func (l *localLocker) SetBreaker(b Breaker) { l.breaker = b }

func (l *localLocker) deliver(k table.Key, bs []table.Break) {
	for _, b := range bs {
		if l.breaker != nil {
			l.breaker.Break(b)
		}
		if b.AckRequired {
			b := b
			time.AfterFunc(l.timeout, func() { l.t.BreakTimedOut(k, b) })
		}
	}
}

func (l *localLocker) OpenFile(ctx context.Context, k table.Key, o table.Open, disposition uint32) (table.Result, error) {
	for {
		ch := l.t.Changed(k)
		res, err := l.t.OpenFile(k, o, disposition)
		if err == nil && res.Pending {
			// The open waits for breaks: a CREATE goes async first, so
			// the client sees the interim response before the break.
			if actx := pendingCreateOf(ctx).goAsync(); actx != nil {
				ctx = actx
			}
		}
		l.deliver(k, res.Breaks)
		if err != nil || !res.Pending {
			return res, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return table.Result{}, ctx.Err()
		}
		o.Retry = true
	}
}

func (l *localLocker) CloseFile(ctx context.Context, k table.Key, id table.OpenID) (table.CloseResult, error) {
	return l.t.CloseFile(k, id)
}

func (l *localLocker) SetDeleteOnClose(ctx context.Context, k table.Key, id table.OpenID, on bool) error {
	return l.t.SetDeleteOnClose(k, id, on)
}

func (l *localLocker) Lock(ctx context.Context, k table.Key, req table.LockRequest, wait bool) error {
	for {
		ch := l.t.Changed(k)
		err := l.t.Lock(k, req)
		if !wait || !errors.Is(err, table.ErrLockNotGranted) {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *localLocker) Unlock(ctx context.Context, k table.Key, req table.LockRequest) error {
	return l.t.Unlock(k, req)
}

func (l *localLocker) CheckIO(ctx context.Context, k table.Key, id table.OpenID, offset, length uint64, write bool) error {
	return l.t.CheckIO(k, id, offset, length, write)
}

func (l *localLocker) AckBreak(ctx context.Context, k table.Key, a table.BreakAck) error {
	return l.t.AckBreak(k, a)
}

func (l *localLocker) ContendLevel2(ctx context.Context, k table.Key, writer table.OpenID) {
	l.deliver(k, l.t.ContendLevel2(k, writer))
}

func (l *localLocker) LeaseFiles(ctx context.Context, guid, key [16]byte) ([]table.Key, error) {
	return nil, nil // every open is this node's: the caller looked already
}

func (l *localLocker) IsOpen(ctx context.Context, k table.Key) bool { return len(l.t.Records(k)) > 0 }
