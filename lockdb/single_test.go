package lockdb

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"shoal/lockdb/table"
)

// TestSingleNode: noded -dev runs one node through the same code paths; it
// takes the recovery lock and serves as the home of every key.
func TestSingleNode(t *testing.T) {
	dir := t.TempDir()
	cfg := TestConfig("solo", filepath.Join(dir, "state"), filepath.Join(dir, "shared"))
	if !cfg.Single() {
		t.Fatal("config without gossip and peers is not single-node")
	}
	c, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 5*time.Second)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	k := table.Key{Share: "data", Inode: 1}
	o := rwOpen(c)
	o.Durable = true
	must(t, first(c.OpenFile(ctx, k, o, table.FileOpenIf)))
	must(t, c.Lock(ctx, k, table.LockRequest{Open: o.ID, Length: 4, Exclusive: true}, false))
	o2 := rwOpen(c)
	must(t, first(c.OpenFile(ctx, k, o2, table.FileOpenIf)))
	if err := c.Lock(ctx, k, table.LockRequest{Open: o2.ID, Offset: 2, Length: 4}, false); !errors.Is(err, table.ErrLockNotGranted) {
		t.Fatalf("conflict: %v", err)
	}
	st := c.LocalStatus()
	if !st.IsCoordinator || st.Generation == 0 || len(st.Members) != 1 {
		t.Fatalf("status %+v", st)
	}
	must(t, c.SetUser(ctx, "shoal", [16]byte{9}))
	if h, ok := c.Users().NTHash("shoal"); !ok || h != [16]byte{9} {
		t.Fatal("user not stored")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Restart: the durable open and the user survive in bbolt.
	c2, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	must(t, c2.Start(ctx))
	d, err := c2.DurableOpens()
	if err != nil || len(d) != 1 || d[0].Open.ID != o.ID {
		t.Fatalf("durable opens after restart: %+v %v", d, err)
	}
	if _, ok := c2.Users().NTHash("shoal"); !ok {
		t.Fatal("user lost across restart")
	}
}
