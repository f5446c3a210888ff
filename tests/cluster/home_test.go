package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"shoal/lockdb"
	"shoal/lockdb/table"
)

// TestHomeOfMatchesLockdb checks the hand-kept copy of lockdb's rendezvous
// hash against lockdb itself: three in-process lockdb nodes (in-memory
// transport) agree on a generation, and every key's home as lockdb names it
// is HomeOf's answer.
func TestHomeOfMatchesLockdb(t *testing.T) {
	dir := t.TempDir()
	net := lockdb.NewInmemNetwork()
	names := []string{"n1", "n2", "n3"}
	var nodes []*lockdb.Cluster
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, name := range names {
		cfg := lockdb.TestConfig(name, filepath.Join(dir, name), filepath.Join(dir, "shared"))
		cfg.Transport, cfg.Membership = net.Node(name + ":1")
		c, err := lockdb.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		nodes = append(nodes, c)
	}
	for {
		st, err := nodes[0].Status(ctx)
		if err == nil && len(st) == 3 && len(st[0].Members) == 3 && st[0].Generation != 0 && st[0].Generation == st[1].Generation && st[1].Generation == st[2].Generation {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no three-node generation: %+v %v", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	seen := map[string]int{}
	for i := uint64(0); i < 3000; i++ {
		for _, share := range []string{"data", "x"} {
			k := table.Key{Share: share, Inode: i*7919 + 1}
			want := nodes[0].HomeOf(k)
			if got := HomeOf(share, k.Inode, names); got != want {
				t.Fatalf("HomeOf(%s) = %s, lockdb says %s", k, got, want)
			}
			seen[want]++
		}
	}
	if len(seen) != 3 {
		t.Errorf("homes used: %v, want all three nodes", seen)
	}
	t.Log(fmt.Sprint("homes of 6000 keys: ", seen))
}
