package table

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockWait is the blocking-lock loop a caller runs around Lock.
func lockWait(ctx context.Context, tb *Table, k Key, l LockRequest) error {
	for {
		ch := tb.Changed(k)
		err := tb.Lock(k, l)
		if !errors.Is(err, ErrLockNotGranted) {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TestConcurrentBlockingLocks: many goroutines on several nodes take an
// overlapping exclusive lock with the blocking loop; at most one holds it
// at a time and every one gets it (no lost wake-up means no hang).
func TestConcurrentBlockingLocks(t *testing.T) {
	tb := newTestTable(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const workers, rounds = 8, 200
	var inside, entered atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		id := oid([]string{"n1", "n2", "n3"}[w%3], uint64(w))
		mustOpen(t, tb, testKey, rwOpen(id), FileOpen)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				l := LockRequest{Open: id, Offset: uint64(r % 3), Length: 4, Exclusive: true}
				if err := lockWait(ctx, tb, testKey, l); err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				if inside.Add(1) != 1 {
					t.Errorf("two holders of an exclusive range")
				}
				entered.Add(1)
				inside.Add(-1)
				if err := tb.Unlock(testKey, l); err != nil {
					t.Errorf("unlock: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := entered.Load(); got != workers*rounds {
		t.Fatalf("%d of %d lock rounds completed", got, workers*rounds)
	}
	checkInv(t, tb)
}

// TestConcurrentOpensWithBreaks: clients on three nodes open the same file
// asking for batch oplocks or RWH leases while "owner nodes" answer breaks
// asynchronously (ack, or time out), and close again. The invariant is
// checked concurrently throughout.
func TestConcurrentOpensWithBreaks(t *testing.T) {
	tb := newTestTable(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	breaks := make(chan Break, 1024)
	var owners sync.WaitGroup
	owners.Add(1)
	go func() { // the owner nodes: ack most breaks, time out some
		defer owners.Done()
		n := 0
		for b := range breaks {
			n++
			if n%5 == 0 {
				tb.BreakTimedOut(b.Key, b)
				continue
			}
			a := BreakAck{Open: b.Open, Oplock: b.OplockTo, Lease: b.Lease, ClientGUID: b.ClientGUID,
				LeaseKey: b.LeaseKey, LeaseState: b.LeaseTo}
			err := tb.AckBreak(b.Key, a)
			if err != nil && !errors.Is(err, ErrNotBreaking) && !errors.Is(err, ErrNoSuchOpen) && !errors.Is(err, ErrNoSuchLease) {
				t.Errorf("ack: %v", err)
			}
		}
	}()
	stop := make(chan struct{})
	var checker sync.WaitGroup
	checker.Add(1)
	go func() {
		defer checker.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := tb.CheckInvariant(); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 150 {
				id := oid([]string{"n1", "n2", "n3"}[w%3], uint64(w*1000+r))
				o := oplockOpen(id, "b")
				if w%2 == 0 {
					o = leaseOpen(id, byte(w), "RWH", 2)
				}
				for {
					ch := tb.Changed(testKey)
					res, err := tb.OpenFile(testKey, o, FileOpenIf)
					if err != nil {
						t.Errorf("open: %v", err)
						return
					}
					for _, b := range res.Breaks {
						if b.AckRequired {
							breaks <- b
						}
					}
					if !res.Pending {
						break
					}
					select {
					case <-ch:
					case <-ctx.Done():
						t.Errorf("open %v never completed", id)
						return
					}
				}
				if _, err := tb.CloseFile(testKey, id); err != nil {
					t.Errorf("close: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	checker.Wait()
	close(breaks)
	owners.Wait()
	checkInv(t, tb)
	if keys := tb.Keys(); len(keys) != 0 {
		t.Fatalf("records left after every close: %v", tb.Records(testKey))
	}
}

// TestChangedNoLostWakeup: a change between taking the channel and waiting
// on it still closes it.
func TestChangedNoLostWakeup(t *testing.T) {
	tb := newTestTable(t)
	a, b := oid("n1", 1), oid("n2", 1)
	mustOpen(t, tb, testKey, rwOpen(a), FileOpen)
	mustOpen(t, tb, testKey, rwOpen(b), FileOpen)
	held := LockRequest{Open: a, Length: 1, Exclusive: true}
	if err := tb.Lock(testKey, held); err != nil {
		t.Fatal(err)
	}
	ch := tb.Changed(testKey)
	if err := tb.Lock(testKey, LockRequest{Open: b, Length: 1, Exclusive: true}); !errors.Is(err, ErrLockNotGranted) {
		t.Fatal(err)
	}
	if err := tb.Unlock(testKey, held); err != nil { // before the waiter waits
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("wake-up lost")
	}
	// Cancelling the waiter's context ends the wait without a change.
	if err := tb.Lock(testKey, held); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := lockWait(ctx, tb, testKey, LockRequest{Open: b, Length: 1, Exclusive: true}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}
