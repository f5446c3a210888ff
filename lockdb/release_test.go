package lockdb

import (
	"sync/atomic"
	"testing"
	"time"

	"shoal/lockdb/table"
)

// TestReleaseAnsweredAcrossRecovery replays the interleaving behind issue
// 3 (found again with SHOAL_SEED=1795316317108243671, schedule 200): a
// home applies an unlock, a recovery freezes the requester before it hears
// the answer, and meanwhile the home grants another node a lock over the
// released range. The released lock must not come back with the
// requester's reassert: if it did, the new home would refuse one owner's
// whole key while that owner's clients still hold the key's other records.
func TestReleaseAnsweredAcrossRecovery(t *testing.T) {
	h := newHarness(t, 2)
	for _, n := range h.order {
		h.start(n)
	}
	gen0 := h.waitStable(5 * time.Second)
	n1, n2 := h.node("n1"), h.node("n2")
	ctx := ctxT(t, 10*time.Second)
	k := keyHomedOn(t, n1, "n2")
	o1, o2 := rwOpen(n1), rwOpen(n2)
	must(t, first(n1.OpenFile(ctx, k, o1, table.FileOpenIf)))
	must(t, first(n2.OpenFile(ctx, k, o2, table.FileOpenIf)))
	released := table.LockRequest{Open: o1.ID, Offset: 0, Length: 10}
	kept := table.LockRequest{Open: o1.ID, Offset: 20, Length: 10, Exclusive: true}
	must(t, n1.Lock(ctx, k, released, false))
	must(t, n1.Lock(ctx, k, kept, false))

	// Hold the answer to n1's unlock after the home (n2) applied it.
	var holding atomic.Bool
	held, resume := make(chan struct{}), make(chan struct{})
	h.net.SetReplyHook(func(from, _ string, req Message) {
		if from == "mem:n1" && req.Kind == kindUnlock && holding.CompareAndSwap(false, true) {
			close(held)
			<-resume
		}
	})
	t.Cleanup(func() { h.net.SetReplyHook(nil) })
	unlocked := make(chan error, 1)
	go func() { unlocked <- n1.Unlock(ctx, k, released) }()
	select {
	case <-held:
	case <-ctx.Done():
		t.Fatal("the unlock never reached its home")
	}
	// The range is free at the home: n2 locks it exclusively.
	taken := table.LockRequest{Open: o2.ID, Offset: 0, Length: 10, Exclusive: true}
	must(t, n2.Lock(ctx, k, taken, false))
	// A new generation while n1's answer is still in flight.
	n1.requestRecovery(gen0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if gen, why := h.stable(); why == "" && gen > gen0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new generation")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(resume)
	if err := <-unlocked; err != nil {
		t.Errorf("unlock answered across the recovery: %v", err)
	}

	h.waitStable(5 * time.Second)
	for _, n := range h.order {
		h.mu.Lock()
		fenced := h.nodes[n].owner.fenced
		h.mu.Unlock()
		if fenced != 0 {
			t.Errorf("%s fenced %d times: a home refused its reasserted records", n, fenced)
		}
	}
	if err := h.checkHomes(); err != nil {
		t.Fatal(err)
	}
	if err := h.checkOwnedMatchesHomes(); err != nil {
		t.Fatal(err)
	}
	// Each owner still has what its clients hold, and only that.
	for _, tc := range []struct {
		c     *Cluster
		open  table.OpenID
		locks []table.LockRequest
	}{
		{n1, o1.ID, []table.LockRequest{kept}},
		{n2, o2.ID, []table.LockRequest{taken}},
	} {
		tc.c.mu.Lock()
		o := tc.c.owned[k]
		var got []table.LockRequest
		hasOpen := false
		if o != nil {
			got, hasOpen = append(got, o.locks...), o.open(tc.open) != nil
		}
		tc.c.mu.Unlock()
		if !hasOpen || len(got) != len(tc.locks) || len(got) == 1 && got[0] != tc.locks[0] {
			t.Errorf("%s owns open %v: %v, locks %+v; want the open and %+v", tc.c.self.Name, tc.open, hasOpen, got, tc.locks)
		}
	}
}
