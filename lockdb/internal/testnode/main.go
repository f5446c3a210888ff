// Command testnode runs one lockdb node over real TCP and memberlist for
// lockdb's multi-process test and benchmark. It reads one command per line
// on stdin and answers one line on stdout:
//
//	wait-members N          until N members share a thawed generation
//	findkey NODE            an inode whose home is NODE now
//	open INODE              open the key (read/write, share read/write)
//	lock INODE OFF LEN      exclusive, waiting (10 s): "ok <µs>"
//	unlock INODE OFF LEN
//	bench INODE N P         N lock+unlock round trips on P goroutines:
//	                        "ok ops=<n> secs=<s> rate=<ops/s> p50=<µs> p99=<µs>"
//	status                  this node's status as JSON
//	quit
//
// Logs go to stderr.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"shoal/lockdb"
	"shoal/lockdb/table"
)

func main() {
	var (
		name   = flag.String("name", "", "node name")
		state  = flag.String("state", "", "state dir")
		shared = flag.String("shared", "", "shared dir")
		gossip = flag.String("gossip", "", "gossip addr")
		rpc    = flag.String("rpc", "", "rpc addr")
		peers  = flag.String("peers", "", "comma-separated gossip peers")
		debug  = flag.Bool("debug", false, "debug logs")
		prod   = flag.Bool("prod", false, "production timings (DefaultConfig) instead of TestConfig")
	)
	flag.Parse()
	lvl := slog.LevelInfo
	if *debug {
		lvl = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	cfg := lockdb.TestConfig(*name, *state, *shared)
	if *prod {
		cfg = lockdb.DefaultConfig()
		cfg.Node, cfg.StateDir, cfg.SharedDir = *name, *state, *shared
	}
	cfg.Gossip, cfg.RPC, cfg.Logger = *gossip, *rpc, log
	if *peers != "" {
		cfg.Peers = strings.Split(*peers, ",")
	}
	key, err := lockdb.LoadOrCreateKey(*shared + "/cluster.key")
	if err != nil {
		fatal(err)
	}
	tr, err := lockdb.NewTCPTransport(*rpc, key, log)
	if err != nil {
		fatal(err)
	}
	ml, err := lockdb.NewGossipMembership(*gossip, cfg.Peers, key, log, true)
	if err != nil {
		fatal(err)
	}
	cfg.Transport, cfg.Membership = tr, ml
	c, err := lockdb.New(cfg, nil)
	if err != nil {
		fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := c.Start(ctx); err != nil {
		fatal(err)
	}
	cancel()
	n := &node{c: c, opens: map[uint64]table.OpenID{}}
	sc := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if f[0] == "quit" {
			break
		}
		fmt.Fprintln(out, n.do(f))
		out.Flush()
	}
	c.Close()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "testnode:", err)
	fmt.Println("fatal", err)
	os.Exit(1)
}

type node struct {
	c     *lockdb.Cluster
	mu    sync.Mutex
	opens map[uint64]table.OpenID
}

func num(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

func key(inode uint64) table.Key { return table.Key{Share: "bench", Inode: inode} }

func (n *node) open(ctx context.Context, inode uint64) (table.OpenID, error) {
	n.mu.Lock()
	id, ok := n.opens[inode]
	n.mu.Unlock()
	if ok {
		return id, nil
	}
	o := table.Open{ID: n.c.NewOpenID(), Access: table.FileReadData | table.FileWriteData, ShareAccess: table.FileShareRead | table.FileShareWrite}
	if _, err := n.c.OpenFile(ctx, key(inode), o, table.FileOpenIf); err != nil {
		return table.OpenID{}, err
	}
	n.mu.Lock()
	n.opens[inode] = o.ID
	n.mu.Unlock()
	return o.ID, nil
}

func (n *node) do(f []string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	arg := func(i int) uint64 {
		if i < len(f) {
			return num(f[i])
		}
		return 0
	}
	switch f[0] {
	case "wait-members":
		want := int(arg(1))
		for ctx.Err() == nil {
			st := n.c.LocalStatus()
			if !st.Frozen && st.Lease > 0 && len(st.Members) == want {
				return fmt.Sprintf("ok gen=%d coord=%s", st.Generation, st.Coordinator)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return "err timeout"
	case "findkey":
		for i := max(arg(2), 1); i < 100000; i++ {
			if n.c.HomeOf(key(i)) == f[1] {
				return fmt.Sprintf("ok %d", i)
			}
		}
		return "err none"
	case "open":
		if _, err := n.open(ctx, arg(1)); err != nil {
			return "err " + err.Error()
		}
		return "ok"
	case "lock", "unlock":
		id, err := n.open(ctx, arg(1))
		if err != nil {
			return "err " + err.Error()
		}
		l := table.LockRequest{Open: id, Offset: arg(2), Length: arg(3), Exclusive: true}
		start := time.Now()
		if f[0] == "lock" {
			err = n.c.Lock(ctx, key(arg(1)), l, true)
		} else {
			err = n.c.Unlock(ctx, key(arg(1)), l)
		}
		if err != nil {
			return "err " + err.Error()
		}
		return fmt.Sprintf("ok %d", time.Since(start).Microseconds())
	case "bench":
		return n.bench(ctx, arg(1), int(arg(2)), int(arg(3)))
	case "status":
		b, _ := json.Marshal(n.c.LocalStatus())
		return "ok " + string(b)
	}
	return "err unknown command"
}

func (n *node) bench(ctx context.Context, inode uint64, total, par int) string {
	if par < 1 {
		par = 1
	}
	id, err := n.open(ctx, inode)
	if err != nil {
		return "err " + err.Error()
	}
	k := key(inode)
	lat := make([][]time.Duration, par)
	var wg sync.WaitGroup
	var firstErr error
	var emu sync.Mutex
	start := time.Now()
	for p := 0; p < par; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each goroutine locks its own range of the one open: no
			// conflicts, every operation is a full round trip to the home.
			l := table.LockRequest{Open: id, Offset: uint64(p) * 16, Length: 8, Exclusive: true}
			for i := 0; i < total/par; i++ {
				t0 := time.Now()
				err := n.c.Lock(ctx, k, l, false)
				if err == nil {
					err = n.c.Unlock(ctx, k, l)
				}
				if err != nil {
					emu.Lock()
					firstErr = err
					emu.Unlock()
					return
				}
				lat[p] = append(lat[p], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if firstErr != nil {
		return "err " + firstErr.Error()
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(q float64) int64 { return all[int(q*float64(len(all)-1))].Microseconds() }
	// One lock+unlock pair is two round trips.
	return fmt.Sprintf("ok pairs=%d secs=%.3f pairs_per_s=%.0f rt_per_s=%.0f pair_p50=%d pair_p99=%d",
		len(all), secs, float64(len(all))/secs, 2*float64(len(all))/secs, pct(0.5), pct(0.99))
}
