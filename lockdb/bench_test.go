package lockdb

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"shoal/lockdb/table"
)

// staticMembership is a fixed member list (benchmarks over real TCP in
// one process).
type staticMembership struct {
	mu      sync.Mutex
	all     *[]Member
	changed chan struct{}
}

func (s *staticMembership) Start(self Member) error {
	s.mu.Lock()
	*s.all = append(*s.all, self)
	s.mu.Unlock()
	return nil
}
func (s *staticMembership) Members() []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Member(nil), *s.all...)
}
func (s *staticMembership) Changed() <-chan struct{} { return s.changed }
func (s *staticMembership) Close() error             { return nil }

// tcpCluster starts n nodes in this process, each with its own TCP
// transport on 127.0.0.1 (authenticated and encrypted) and default
// (production) timings.
func tcpCluster(b testing.TB, n int) []*Cluster {
	dir := b.TempDir()
	key := bytes.Repeat([]byte{9}, 32)
	var all []Member
	var out []*Cluster
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("b%d", i)
		cfg := DefaultConfig()
		cfg.Node, cfg.StateDir, cfg.SharedDir = name, filepath.Join(dir, name), filepath.Join(dir, "shared")
		tr, err := NewTCPTransport("127.0.0.1:0", key, nil)
		if err != nil {
			b.Fatal(err)
		}
		cfg.Transport = tr
		cfg.Membership = &staticMembership{all: &all, changed: make(chan struct{})}
		c, err := New(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, c)
	}
	for _, c := range out {
		ctx, cancel := context.WithTimeout(context.Background(), 0)
		c.Start(ctx)
		cancel()
	}
	b.Cleanup(func() {
		for _, c := range out {
			c.Close()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for _, c := range out {
			st := c.LocalStatus()
			if st.Frozen || st.Lease == 0 || len(st.Members) != n {
				ok = false
			}
		}
		if ok {
			return out
		}
		if time.Now().After(deadline) {
			b.Fatal("cluster did not form")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkLockUnlock measures one lock+unlock pair (two home decisions)
// from b1 for a key homed on b1 (local) and on b2 (remote, two TCP round
// trips), reporting p50/p99 per pair.
func BenchmarkLockUnlock(b *testing.B) {
	cs := tcpCluster(b, 3)
	for _, home := range []string{"b1", "b2"} {
		name := "local"
		if home != "b1" {
			name = "remote"
		}
		b.Run(name, func(b *testing.B) {
			c := cs[0]
			var k table.Key
			for i := uint64(1); ; i++ {
				k = table.Key{Share: "bench", Inode: i}
				if c.HomeOf(k) == home {
					break
				}
			}
			ctx := context.Background()
			o := rwOpen(c)
			if _, err := c.OpenFile(ctx, k, o, table.FileOpenIf); err != nil {
				b.Fatal(err)
			}
			l := table.LockRequest{Open: o.ID, Length: 8, Exclusive: true}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if err := c.Lock(ctx, k, l, false); err != nil {
					b.Fatal(err)
				}
				if err := c.Unlock(ctx, k, l); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs/pair")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs/pair")
		})
	}
}
