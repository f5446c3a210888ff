package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"shoal/tests/cluster"
)

func main() {
	var cfg config
	flag.IntVar(&cfg.runs, "runs", 3, "runs per measurement and server (alternating servers)")
	flag.DurationVar(&cfg.dur, "dur", 3*time.Second, "length of one open+close run")
	flag.IntVar(&cfg.n, "n", 300, "sharing violations per run")
	flag.IntVar(&cfg.nBreak, "nbreak", 100, "breaks per run")
	flag.BoolVar(&cfg.samba, "samba", true, "measure plain Samba too (anchors' samba/start.sh; root)")
	flag.BoolVar(&cfg.ctdb, "ctdb", false, "measure the anchors' 3-node Samba+CTDB cluster too (ctdb/up.sh; root, netns)")
	flag.StringVar(&cfg.anchors, "anchors", "/work/shared/anchors", "the reference scripts")
	flag.StringVar(&cfg.dir, "dir", "", "work directory (default a new temporary one, removed at the end)")
	flag.StringVar(&cfg.tests, "tests", "openclose,sv,oplock,lease", "measurements")
	flag.StringVar(&cfg.client, "client", "", "internal: run the measurements against ADDR_A,ADDR_B,USER,PASS and print them (used inside the CTDB netns)")
	flag.Parse()
	if cfg.client != "" {
		os.Exit(clientMode(cfg))
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench/cluster:", err)
		os.Exit(1)
	}
}

type config struct {
	runs, n, nBreak int
	dur             time.Duration
	samba, ctdb     bool
	anchors, dir    string
	tests, client   string
}

func (c config) has(test string) bool {
	for _, t := range strings.Split(c.tests, ",") {
		if t == test {
			return true
		}
	}
	return false
}

func run(cfg config) error {
	ctx := context.Background()
	dir := cfg.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "shbc")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
		os.Chmod(dir, 0o755) // Samba's user must reach its share below
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	noded, nodectl := filepath.Join(dir, "noded"), filepath.Join(dir, "nodectl")
	for pkg, out := range map[string]string{"cmd/noded": noded, "cmd/nodectl": nodectl} {
		if err := cluster.GoBuild(ctx, root, pkg, out, false); err != nil {
			return err
		}
	}
	logs, err := os.Create(filepath.Join(dir, "noded.log"))
	if err != nil {
		return err
	}
	defer logs.Close()
	ccfg := cluster.Config{Nodes: 3, Dir: filepath.Join(dir, "c"), Noded: noded, Nodectl: nodectl,
		Output: func(int) io.Writer { return logs }}
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	c, err := cluster.Start(sctx, ccfg)
	if err != nil {
		return err
	}
	defer c.Stop()
	const user, pass = "bench", "Bench-pw-1"
	if err := c.AddUser(sctx, user, pass); err != nil {
		return err
	}
	targets := []*target{{name: "shoal-3node", addrA: c.Nodes[0].SMBAddr, addrB: c.Nodes[1].SMBAddr, user: user, pass: pass, share: "data",
		homed: c.FileHomedOn}}
	fmt.Printf("shoal: 3 nodes %s %s %s (noded -config, lockdb defaults); client A on n1, B on n2, sv/break files homed on n3\n",
		c.Nodes[0].SMBAddr, c.Nodes[1].SMBAddr, c.Nodes[2].SMBAddr)
	if cfg.samba {
		s, stop, err := startSamba(ctx, cfg.anchors, filepath.Join(dir, "samba"))
		if err != nil {
			return err
		}
		defer stop()
		targets = append(targets, s)
		fmt.Printf("samba: plain smbd %s\n", s.addrA)
	}
	res := newResults()
	for run := 0; run < cfg.runs; run++ {
		order := targets
		if run%2 == 1 {
			order = reversed(targets)
		}
		for _, tg := range order {
			if err := measure(ctx, cfg, tg, run, res); err != nil {
				return fmt.Errorf("%s run %d: %w", tg.name, run, err)
			}
		}
	}
	var names []string
	for _, tg := range targets {
		names = append(names, tg.name)
	}
	if cfg.ctdb {
		r, err := measureCTDB(ctx, cfg, dir)
		if err != nil {
			fmt.Printf("ctdb: not measured: %v\n", err)
		} else {
			res.merge("samba-ctdb-3node", r)
			names = append(names, "samba-ctdb-3node")
		}
	}
	res.print(os.Stdout, names)
	return nil
}

func reversed(ts []*target) []*target {
	out := make([]*target, len(ts))
	for i, t := range ts {
		out[len(ts)-1-i] = t
	}
	return out
}

// measure runs one round of every selected measurement against tg.
func measure(ctx context.Context, cfg config, tg *target, run int, res *results) error {
	for _, home := range []string{"", "n1", "n3", "n3c"} {
		if !cfg.has("openclose") || home != "" && tg.homed == nil {
			continue
		}
		ops, err := openClose(ctx, tg, cfg.dur, run, home)
		if err != nil {
			return fmt.Errorf("openclose: %w", err)
		}
		test := "openclose"
		if home != "" {
			test += "@" + home
		}
		res.add(tg.name, test, ops)
		fmt.Printf("  %-18s run %d %-12s %8.0f ops/s\n", tg.name, run, test, ops)
	}
	if cfg.has("sv") {
		lat, err := sharingViolation(ctx, tg, cfg.n, run)
		if err != nil {
			return fmt.Errorf("sv: %w", err)
		}
		res.addLat(tg.name, "sv", lat)
		fmt.Printf("  %-18s run %d sv        p50 %6d µs  p90 %6d µs\n", tg.name, run, pct(lat, 50).Microseconds(), pct(lat, 90).Microseconds())
	}
	for _, kind := range []string{"oplock", "lease"} {
		if !cfg.has(kind) {
			continue
		}
		lat, err := breakCompletion(ctx, tg, cfg.nBreak, run, kind == "lease")
		if err != nil {
			return fmt.Errorf("%s break: %w", kind, err)
		}
		res.addLat(tg.name, kind, lat)
		fmt.Printf("  %-18s run %d %-6s    p50 %6d µs  p90 %6d µs\n", tg.name, run, kind, pct(lat, 50).Microseconds(), pct(lat, 90).Microseconds())
	}
	return nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module shoal\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module shoal above the working directory")
		}
		dir = parent
	}
}
