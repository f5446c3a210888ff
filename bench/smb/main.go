package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// metric is one measurement; every value is a rate (higher is better), so
// every ratio reads the same way.
type metric struct {
	name string
	unit string
	run  func(b *bench, s *server, run int) (float64, error)
	// sync: write every dirty page back before each run (untimed). A 1 GiB
	// put leaves 1 GiB to write back; without this the kernel writes it
	// during the next run, which is the other server's as often as not
	// (with an odd -runs, Shoal runs second one time more than Samba).
	sync bool
}

var metrics = []metric{
	{"put", "MB/s", (*bench).put, true},
	{"get", "MB/s", (*bench).get, true},
	{"open", "ops/s", (*bench).open, false},
	{"create", "ops/s", (*bench).create, false},
	{"list", "entries/s", (*bench).list, false},
	{"bigcreate", "ops/s", (*bench).bigCreate, false},
}

func main() {
	var (
		sambaOnly  = flag.Bool("samba", false, "compare the reference Samba against a second Samba instead of Shoal (harness smoke test)")
		anchors    = flag.String("anchors", "", "the anchors directory (default <repo>/../shared/anchors)")
		noded      = flag.String("noded", "", "a prebuilt noded (default: go build ./cmd/noded)")
		runs       = flag.Int("runs", 5, "alternating runs per measurement (medians are compared)")
		sizeMiB    = flag.Int64("size", 1024, "size of the smbclient put/get file in MiB")
		dur        = flag.Duration("dur", 3*time.Second, "duration of each open/create/bigcreate run")
		files      = flag.Int("files", 10000, "entries in the directory for list and bigcreate")
		only       = flag.String("only", "", "comma-separated subset of: put,get,open,create,list,bigcreate")
		dialect    = flag.String("dialect", "", "pin go-smb2 to one dialect (2.0.2 ... 3.1.1; default: negotiate)")
		protection = flag.String("protection", "sign", "smbclient --client-protection: sign, encrypt, off, or default")
		workdir    = flag.String("workdir", "", "scratch directory (default: a new one under $TMPDIR, removed at the end)")
	)
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./bench/smb [flags]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	code, err := run(config{*sambaOnly, *anchors, *noded, *runs, *sizeMiB, *dur, *files, *only, *dialect, *protection, *workdir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/smb:", err)
	}
	os.Exit(code)
}

type config struct {
	sambaOnly  bool
	anchors    string
	noded      string
	runs       int
	sizeMiB    int64
	dur        time.Duration
	files      int
	only       string
	dialect    string
	protection string
	workdir    string
}

func run(cfg config) (int, error) {
	code, ok := dialects[cfg.dialect]
	if !ok {
		return 2, fmt.Errorf("-dialect %q: want one of 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1", cfg.dialect)
	}
	if cfg.runs < 1 || cfg.sizeMiB < 1 || cfg.files < 1 || cfg.dur <= 0 {
		return 2, fmt.Errorf("-runs, -size, -files and -dur must be positive")
	}
	selected := metrics
	if cfg.only != "" {
		selected = nil
		for _, name := range strings.Split(cfg.only, ",") {
			i := slices.IndexFunc(metrics, func(m metric) bool { return m.name == name })
			if i < 0 {
				return 2, fmt.Errorf("-only: unknown metric %q", name)
			}
			selected = append(selected, metrics[i])
		}
	}
	for _, p := range []string{"smbclient"} {
		if _, err := exec.LookPath(p); err != nil {
			return 2, fmt.Errorf("%s not found (apt-get install smbclient)", p)
		}
	}
	root, err := repoRoot()
	if err != nil {
		return 2, err
	}
	if cfg.anchors == "" {
		cfg.anchors = filepath.Join(filepath.Dir(root), "shared", "anchors")
	}
	if _, err := os.Stat(filepath.Join(cfg.anchors, "samba", "start.sh")); err != nil {
		return 2, fmt.Errorf("-anchors: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	work := cfg.workdir
	if work == "" {
		if work, err = os.MkdirTemp("", "shoal-bench-"); err != nil {
			return 1, err
		}
		defer os.RemoveAll(work)
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return 1, err
	}
	// start.sh's smbd runs as the share's user, which must reach the share.
	os.Chmod(work, 0o755)

	// --- servers ---------------------------------------------------------
	var servers []*server
	defer func() {
		for _, s := range servers {
			if err := s.stop(); err != nil {
				fmt.Fprintln(os.Stderr, "bench/smb: stop", s.name+":", err)
			}
		}
	}()
	a, err := startSamba(ctx, "samba", cfg.anchors, work)
	if err != nil {
		return 1, err
	}
	servers = append(servers, a)
	var b *server
	if cfg.sambaOnly {
		b, err = startSamba(ctx, "samba-b", cfg.anchors, work)
	} else {
		bin := cfg.noded
		if bin == "" {
			fmt.Println("building ./cmd/noded ...")
			bin, err = buildNoded(ctx, root, work)
		}
		if err == nil {
			b, err = startShoal(ctx, bin, work)
		}
	}
	if err != nil {
		return 1, err
	}
	servers = append(servers, b)
	for _, s := range servers {
		fmt.Printf("%-8s %s share %s user %s\n", s.name, s.addr(), s.share, s.user)
	}

	// --- shared state ------------------------------------------------------
	local := filepath.Join(work, "local")
	if err := os.MkdirAll(local, 0o755); err != nil {
		return 1, err
	}
	bn := &bench{ctx: ctx, dialect: code, dur: cfg.dur, files: cfg.files, protection: cfg.protection,
		local: local, srcSize: cfg.sizeMiB << 20, verified: map[string]bool{}, putDone: map[string]bool{},
		emptyConf: filepath.Join(local, "smb.conf")}
	if err := os.WriteFile(bn.emptyConf, []byte("[global]\n"), 0o644); err != nil {
		return 1, err
	}
	needs := func(names ...string) bool {
		return slices.ContainsFunc(selected, func(m metric) bool { return slices.Contains(names, m.name) })
	}
	if needs("put", "get") {
		bn.src = filepath.Join(local, "src.bin")
		fmt.Printf("writing a %d MiB source file ...\n", cfg.sizeMiB)
		if bn.srcSum, err = makeSource(bn.src, bn.srcSize); err != nil {
			return 1, err
		}
	}
	if needs("get") && !needs("put") {
		for _, s := range servers {
			if _, err := bn.put(s, 0); err != nil {
				return 1, err
			}
		}
	}
	if needs("list", "bigcreate") {
		for _, s := range servers {
			rate, err := bn.populate(s)
			if err != nil {
				return 1, err
			}
			fmt.Printf("populate %-8s %d files into %s: %.0f creates/s (growing directory, informational)\n", s.name, cfg.files, bigDir, rate)
		}
	}

	// --- measure, alternating ----------------------------------------------
	type row struct {
		m      metric
		values [2][]float64
	}
	var rows []row
	fmt.Printf("\n%d alternating runs each; go-smb2 dialect %s; smbclient protection %s\n",
		cfg.runs, orDefault(cfg.dialect, "negotiated"), cfg.protection)
	for _, m := range selected {
		r := row{m: m}
		for i := 0; i < cfg.runs; i++ {
			order := []int{0, 1}
			if i%2 == 1 {
				order = []int{1, 0}
			}
			for _, k := range order {
				if ctx.Err() != nil {
					return 1, errStopped
				}
				if m.sync {
					syscall.Sync()
				}
				v, err := m.run(bn, servers[k], i)
				if err != nil {
					return 1, fmt.Errorf("%s on %s (run %d): %w", m.name, servers[k].name, i+1, err)
				}
				r.values[k] = append(r.values[k], v)
				fmt.Printf("  %-10s run %d %-8s %12.1f %s\n", m.name, i+1, servers[k].name, v, m.unit)
			}
		}
		rows = append(rows, r)
	}

	// --- report ----------------------------------------------------------
	labels := map[string]string{
		"put":       fmt.Sprintf("put %d MiB (smbclient)", cfg.sizeMiB),
		"get":       fmt.Sprintf("get %d MiB (smbclient)", cfg.sizeMiB),
		"open":      "open+close (go-smb2)",
		"create":    "create+4KiB write+close",
		"list":      fmt.Sprintf("list %d-entry dir", cfg.files),
		"bigcreate": fmt.Sprintf("create in %d-entry dir", cfg.files),
	}
	fmt.Printf("\n%-30s %-10s %14s %14s %8s\n", "metric (medians)", "unit", a.name, b.name, "ratio")
	worst := 0.0
	for _, r := range rows {
		ma, mb := median(r.values[0]), median(r.values[1])
		ratio := mb / ma
		if worst == 0 || ratio < worst {
			worst = ratio
		}
		fmt.Printf("%-30s %-10s %14.1f %14.1f %8.2f\n", labels[r.m.name], r.m.unit, ma, mb, ratio)
	}
	fmt.Printf("ratio = %s/%s (higher is better for %s); lowest ratio %.2f\n", b.name, a.name, b.name, worst)
	return 0, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
