package lockdb

import (
	"context"
	"errors"
	"testing"
	"time"

	"shoal/lockdb/table"
)

// delegateOf reports who decides k as the home sees it ("" when the home
// does) and whether node holds the delegation by its own account.
func delegateOf(home, node *Cluster, k table.Key) (to string, held bool) {
	home.mu.Lock()
	if d := home.dlg.out[k]; d != nil {
		to = d.to
	}
	home.mu.Unlock()
	node.mu.Lock()
	held = node.dlg.held[k] != nil
	node.mu.Unlock()
	return to, held
}

// wantDelegated fails unless home delegated k to node and node holds it.
func wantDelegated(t *testing.T, home, node *Cluster, k table.Key) {
	t.Helper()
	if to, held := delegateOf(home, node, k); to != node.self.Name || !held {
		t.Fatalf("key %v: home %s names %q as its delegate, %s holds it: %v", k, home.self.Name, to, node.self.Name, held)
	}
}

// wantRecalled fails unless k is back at home and node no longer holds it.
func wantRecalled(t *testing.T, home, node *Cluster, k table.Key) {
	t.Helper()
	if to, held := delegateOf(home, node, k); to != "" || held {
		t.Fatalf("key %v after the recall: home %s names %q, %s holds it: %v", k, home.self.Name, to, node.self.Name, held)
	}
}

func stats(c *Cluster) (grants, recalls uint64) {
	_, _, g, r := c.DelegationStats()
	return g, r
}

// started3 starts a 3-node harness with cfg adjusted by adj (nil: as is).
func started3(t *testing.T, adj func(*Config)) *harness {
	t.Helper()
	h := newHarness(t, 3)
	if adj != nil {
		h.cfg = func(node, state, shared string) Config {
			c := fastConfig(node, state, shared)
			adj(&c)
			return c
		}
	}
	for _, n := range h.order {
		h.start(n)
	}
	h.waitStable(5 * time.Second)
	return h
}

// fixture starts three nodes and picks a key homed on n3, the home of
// most tests here; n1 is the delegate and n2 the other node.
func fixture(t *testing.T, adj func(*Config)) (h *harness, n1, n2, n3 *Cluster, ctx context.Context, k table.Key) {
	t.Helper()
	h = started3(t, adj)
	n1, n2, n3 = h.node("n1"), h.node("n2"), h.node("n3")
	return h, n1, n2, n3, ctxT(t, 10*time.Second), keyHomedOn(t, n1, "n3")
}

func checkAll(t *testing.T, h *harness) {
	t.Helper()
	if err := h.checkHomes(); err != nil {
		t.Fatal(err)
	}
	for {
		err := h.checkOwnedMatchesHomes()
		if !errors.Is(err, errNotStable) {
			must(t, err)
			return
		}
		h.waitStable(5 * time.Second)
	}
}

// A key only n1's clients use is delegated to n1 with its first answer;
// n1 then decides it alone, even cut off from the home for a moment, and
// the admin listing still shows its records.
func TestDelegationGrantedAndDecidedLocally(t *testing.T) {
	h, n1, _, n3, ctx, k := fixture(t, nil)
	o := rwOpen(n1)
	o.Oplock = table.OplockBatch
	must(t, first(n1.OpenFile(ctx, k, o, table.FileOpenIf)))
	wantDelegated(t, n3, n1, k)
	checkAll(t, h)

	// The home is unreachable from n1: local decisions still succeed.
	h.net.Disconnect("mem:n1", "mem:n3")
	lctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	o2 := rwOpen(n1)
	_, err := n1.OpenFile(lctx, k, o2, table.FileOpenIf)
	if err == nil {
		_, err = n1.CloseFile(lctx, k, o2.ID)
	}
	if err == nil {
		err = n1.Lock(lctx, k, table.LockRequest{Open: o.ID, Length: 4, Exclusive: true}, false)
	}
	cancel()
	h.net.Connect("mem:n1", "mem:n3")
	if err != nil {
		t.Fatalf("local decision while the home is cut off: %v", err)
	}
	if g, r := stats(n3); g != 1 || r != 0 {
		t.Fatalf("home n3: %d grants, %d recalls; want 1, 0", g, r)
	}
	ls, err := n3.Opens(ctx)
	must(t, err)
	found := false
	for _, l := range ls {
		for _, r := range l.Records {
			found = found || r.Open.ID == o.ID
		}
	}
	if !found {
		t.Fatalf("delegated open %v missing from the listing %+v", o.ID, ls)
	}
	lk, err := n3.Locks(ctx)
	must(t, err)
	if n := len(lk[0].Records); lk[0].Node != "n1" || n != 1 {
		t.Fatalf("locks listing: %+v", lk)
	}
	checkAll(t, h)
}

// Another node's open recalls the key; it is answered as if the home had
// decided all along (sharing violation, or a grant once n1 closed).
func TestDelegationRecallThenSharingViolation(t *testing.T) {
	h, n1, n2, n3, ctx, k := fixture(t, nil)
	deny := rwOpen(n1)
	deny.ShareAccess = table.FileShareRead
	must(t, first(n1.OpenFile(ctx, k, deny, table.FileOpenIf)))
	wantDelegated(t, n3, n1, k)
	if _, err := n2.OpenFile(ctx, k, rwOpen(n2), table.FileOpenIf); !errors.Is(err, table.ErrSharingViolation) {
		t.Fatalf("n2's open next to a deny-write open: %v", err)
	}
	wantRecalled(t, n3, n1, k)
	if _, r := stats(n3); r != 1 {
		t.Fatalf("recalls %d, want 1", r)
	}
	checkAll(t, h)
	must(t, first(n1.CloseFile(ctx, k, deny.ID)))
	must(t, first(n2.OpenFile(ctx, k, rwOpen(n2), table.FileOpenIf)))
	checkAll(t, h)
}

// A blocking lock waiting at the delegate is woken by the recall, waits on
// at the home and is granted when the holder unlocks there.
func TestDelegationRecallMovesWaitingLock(t *testing.T) {
	h, n1, n2, n3, ctx, k := fixture(t, nil)
	o1, o2 := rwOpen(n1), rwOpen(n1)
	must(t, first(n1.OpenFile(ctx, k, o1, table.FileOpenIf)))
	must(t, first(n1.OpenFile(ctx, k, o2, table.FileOpenIf)))
	l1 := table.LockRequest{Open: o1.ID, Length: 10, Exclusive: true}
	l2 := table.LockRequest{Open: o2.ID, Offset: 5, Length: 10, Exclusive: true}
	must(t, n1.Lock(ctx, k, l1, false))
	done := make(chan error, 1)
	go func() { done <- n1.Lock(ctx, k, l2, true) }()
	waitFor(t, "the lock to wait at n1", func() bool {
		n1.mu.Lock()
		defer n1.mu.Unlock()
		h := n1.dlg.held[k]
		return h != nil && h.active == 1
	})
	must(t, first(n2.OpenFile(ctx, k, rwOpen(n2), table.FileOpenIf))) // recalls
	wantRecalled(t, n3, n1, k)
	select {
	case err := <-done:
		t.Fatalf("waiting lock returned before the unlock: %v", err)
	default:
	}
	checkAll(t, h)
	must(t, n1.Unlock(ctx, k, l1))
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	checkAll(t, h)
}

// An oplock break in progress at the delegate goes on after a recall: the
// client's ack reaches the home and both waiting opens complete.
func TestDelegationBreakSurvivesRecall(t *testing.T) {
	h, n1, n2, n3, ctx, k := fixture(t, func(c *Config) { c.BreakTimeout = time.Minute })
	h.mu.Lock()
	ow := h.nodes["n1"].owner
	h.mu.Unlock()
	ow.mu.Lock()
	ow.silent = true // we ack by hand, after the recall
	ow.mu.Unlock()
	batch := rwOpen(n1)
	batch.Oplock = table.OplockBatch
	must(t, first(n1.OpenFile(ctx, k, batch, table.FileOpenIf)))
	local := make(chan error, 1)
	go func() { local <- first(n1.OpenFile(ctx, k, rwOpen(n1), table.FileOpenIf)) }()
	var b table.Break
	waitFor(t, "the break at n1's client", func() bool {
		ow.mu.Lock()
		defer ow.mu.Unlock()
		if len(ow.breaks) > 0 {
			b = ow.breaks[0]
		}
		return len(ow.breaks) > 0
	})
	remote := make(chan error, 1)
	go func() { remote <- first(n2.OpenFile(ctx, k, rwOpen(n2), table.FileOpenIf)) }()
	waitFor(t, "the recall", func() bool {
		to, held := delegateOf(n3, n1, k)
		return to == "" && !held
	})
	recs := n3.tbl.Records(k)
	if len(recs) == 0 || !recs[0].Breaking {
		t.Fatalf("home's records after the recall: %+v", recs)
	}
	must(t, n1.AckBreak(ctx, k, table.BreakAck{Open: b.Open, Oplock: b.OplockTo}))
	for _, ch := range []chan error{local, remote} {
		if err := <-ch; err != nil {
			t.Fatalf("open waiting for the break: %v", err)
		}
	}
	checkAll(t, h)
}

// A recall that cannot reach the delegate (cut off, or killed) makes the
// home decide nothing for the key in that generation: the conflicting
// open is granted only in a new generation, after the delegate fenced.
func TestDelegationRecallFailsNewGeneration(t *testing.T) {
	for _, how := range []string{"isolate", "kill"} {
		t.Run(how, func(t *testing.T) {
			h := started3(t, nil)
			// The delegate is cut off or killed; the coordinator is the
			// home, the third node the requester.
			coord := h.coordinator()
			var others []string
			for _, n := range h.order {
				if n != coord {
					others = append(others, n)
				}
			}
			dname, rname := others[0], others[1]
			d := h.node(dname)
			ctx := ctxT(t, 10*time.Second)
			k := keyHomedOn(t, d, coord)
			deny := rwOpen(d)
			deny.ShareAccess = table.FileShareRead
			must(t, first(d.OpenFile(ctx, k, deny, table.FileOpenIf)))
			wantDelegated(t, h.node(coord), d, k)
			gen, _ := h.stable()
			var fencedAt time.Time
			h.mu.Lock()
			ow := h.nodes[dname].owner
			h.mu.Unlock()
			ow.mu.Lock()
			ow.onFence = func() { fencedAt = time.Now() }
			ow.mu.Unlock()
			if how == "isolate" {
				h.net.Isolate("mem:" + dname)
			} else {
				h.kill(dname)
			}
			n2 := h.node(rname)
			o := rwOpen(n2)
			must(t, first(n2.OpenFile(ctx, k, o, table.FileOpenIf)))
			grantedAt := time.Now()
			n2.mu.Lock()
			now := n2.gen
			n2.mu.Unlock()
			if now == gen {
				t.Fatalf("granted in generation %d, the delegate's", gen)
			}
			ow.mu.Lock()
			f := fencedAt
			ow.mu.Unlock()
			if how == "isolate" && (f.IsZero() || f.After(grantedAt)) {
				t.Fatalf("granted at %v, the delegate fenced at %v", grantedAt, f)
			}
			h.net.Heal()
			h.waitStable(5 * time.Second)
			checkAll(t, h)
		})
	}
}

// Every generation change ends every delegation: the records go back to
// the homes with the owners' reasserts.
func TestDelegationDroppedOnGenerationChange(t *testing.T) {
	h, n1, _, n3, ctx, k := fixture(t, nil)
	o := rwOpen(n1)
	must(t, first(n1.OpenFile(ctx, k, o, table.FileOpenIf)))
	must(t, n1.Lock(ctx, k, table.LockRequest{Open: o.ID, Length: 1}, false))
	wantDelegated(t, n3, n1, k)
	gen, _ := h.stable()
	h.kill("n2")
	if g := h.waitStable(5 * time.Second); g <= gen {
		t.Fatalf("generation %d after the kill, was %d", g, gen)
	}
	wantRecalled(t, n3, n1, k)
	if recs := n3.tbl.Records(k); len(recs) != 2 {
		t.Fatalf("home's records after reassert: %+v", recs)
	}
	checkAll(t, h)
	// The next request may delegate it again.
	must(t, first(n1.CloseFile(ctx, k, o.ID)))
	wantDelegated(t, n3, n1, k)
}

// Hysteresis: a key recalled lately is not delegated again at once.
func TestDelegationHysteresis(t *testing.T) {
	tests := []struct {
		name       string
		hysteresis time.Duration
		regrant    bool
	}{
		{"recent recall", time.Hour, false},
		{"none", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, n1, n2, n3, ctx, k := fixture(t, func(c *Config) { c.DelegationHysteresis = tc.hysteresis })
			must(t, first(n1.OpenFile(ctx, k, rwOpen(n1), table.FileOpenIf)))
			o2 := rwOpen(n2)
			must(t, first(n2.OpenFile(ctx, k, o2, table.FileOpenIf)))
			must(t, first(n2.CloseFile(ctx, k, o2.ID)))
			must(t, first(n1.OpenFile(ctx, k, rwOpen(n1), table.FileOpenIf)))
			to, _ := delegateOf(n3, n1, k)
			g, r := stats(n3)
			if (to == "n1") != tc.regrant || r != 1 || g != map[bool]uint64{false: 1, true: 2}[tc.regrant] {
				t.Fatalf("delegate %q after a recall, %d grants, %d recalls; want re-granted %v", to, g, r, tc.regrant)
			}
			checkAll(t, h)
		})
	}
}

// A node holds at most MaxDelegations keys, and gives idle ones back.
func TestDelegationBoundAndIdleGiveBack(t *testing.T) {
	h := started3(t, func(c *Config) {
		c.MaxDelegations = 2
		c.DelegationIdle = 100 * time.Millisecond
	})
	n1, n3 := h.node("n1"), h.node("n3")
	ctx := ctxT(t, 5*time.Second)
	var keys []table.Key
	n1.mu.Lock()
	nodes := n1.nodes
	n1.mu.Unlock()
	for i := uint64(1); len(keys) < 5; i++ {
		if k := (table.Key{Share: "data", Inode: i}); homeOf(k, nodes).Name == "n3" {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		must(t, first(n1.OpenFile(ctx, k, rwOpen(n1), table.FileOpenIf)))
		if _, held, _, _ := n1.DelegationStats(); held > 2 {
			t.Fatalf("n1 holds %d delegations, bound 2", held)
		}
	}
	if _, held, _, _ := n1.DelegationStats(); held != 2 {
		t.Fatalf("n1 holds %d delegations, want the bound 2", held)
	}
	checkAll(t, h)
	waitFor(t, "idle delegations to go back", func() bool {
		_, held, _, _ := n1.DelegationStats()
		out, _, _, _ := n3.DelegationStats()
		return held == 0 && out == 0
	})
	for _, k := range keys {
		if n := len(n3.tbl.Records(k)); n != 1 {
			t.Fatalf("key %v: %d records at its home after the give-back", k, n)
		}
	}
	checkAll(t, h)
}

// waitFor polls cond until it holds (the test's deadline is the limit).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
