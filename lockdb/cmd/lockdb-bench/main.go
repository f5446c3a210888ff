// Command lockdb-bench benchmarks Shoal's lock database with three real node
// processes (lockdb/internal/testnode) over loopback TCP:
//
//   - lock+unlock round trips: latency (p50/p99, one client) and
//     throughput (many clients) for a key homed on the requesting node
//     (local home), one homed on another node and used by the requester
//     alone (delegated to it: decided locally), and one homed on another
//     node that a third node keeps open (remote home: every call a round
//     trip);
//   - recovery: time from kill -9 of one of the three processes (the
//     coordinator, or another node) until a survivor waiting on a lock the
//     victim held is granted.
//
// Usage: go run ./lockdb/cmd/lockdb-bench [-n 20000] [-par 16] [-kills 5]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"shoal/lockdb/internal/proccluster"
)

func main() {
	n := flag.Int("n", 20000, "lock+unlock pairs per measurement")
	par := flag.Int("par", 16, "concurrent clients for the throughput run")
	kills := flag.Int("kills", 5, "kill -9 runs per victim kind")
	bin := flag.String("testnode", "", "testnode binary (default: go build it)")
	prod := flag.Bool("prod", true, "production timings (DefaultConfig); false: TestConfig")
	flag.Parse()
	dir, err := os.MkdirTemp("", "shoal-bench-lockdb-")
	check(err)
	defer os.RemoveAll(dir)
	if *bin == "" {
		*bin = filepath.Join(dir, "testnode")
		out, err := exec.Command("go", "build", "-o", *bin, "shoal/lockdb/internal/testnode").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build testnode: %v\n%s", err, out)
			os.Exit(1)
		}
	}

	var args []string
	if *prod {
		args = append(args, "-prod")
	}
	pc, err := proccluster.Start(*bin, filepath.Join(dir, "rt"), 3, args...)
	check(err)
	for _, nd := range pc.Nodes {
		_, err := nd.Do("wait-members 3", 30*time.Second)
		check(err)
	}
	a := pc.Nodes[0]
	fmt.Printf("lock+unlock round trips, 3 processes on 127.0.0.1, requester %s, prod timings %v\n", a.Name, *prod)
	// A key homed on the requester; one homed elsewhere that only the
	// requester uses (its home delegates it: decided on the requester);
	// and one homed elsewhere that a third node keeps open, so every call
	// is a round trip to the home.
	cases := []struct{ kind, home string }{
		{"local home", a.Name},
		{"remote, delegated", pc.Nodes[1].Name},
		{"remote home (" + pc.Nodes[1].Name + ")", pc.Nodes[1].Name},
	}
	from := "1"
	for _, cs := range cases {
		kind, home := cs.kind, cs.home
		inode, err := a.Do("findkey "+home+" "+from, 5*time.Second)
		check(err)
		i, err := strconv.ParseUint(inode, 10, 64)
		check(err)
		from = strconv.FormatUint(i+1, 10)
		if strings.HasPrefix(kind, "remote home") {
			_, err = pc.Nodes[2].Do("open "+inode, 10*time.Second)
			check(err)
		}
		_, err = a.Do(fmt.Sprintf("bench %s %d 1", inode, *n/10), 60*time.Second) // warm up
		check(err)
		lat, err := a.Do(fmt.Sprintf("bench %s %d 1", inode, *n), 120*time.Second)
		check(err)
		thr, err := a.Do(fmt.Sprintf("bench %s %d %d", inode, *n, *par), 120*time.Second)
		check(err)
		fmt.Printf("  %-24s 1 client:   %s\n", kind, lat)
		fmt.Printf("  %-24s %2d clients: %s\n", kind, *par, thr)
	}
	pc.Close()

	fmt.Printf("recovery: kill -9 → a survivor's waiting lock granted (%d runs each)\n", *kills)
	for _, victim := range []string{"non-coordinator", "coordinator"} {
		var ds []time.Duration
		for r := 0; r < *kills; r++ {
			d, err := killRun(*bin, filepath.Join(dir, fmt.Sprintf("k-%s-%d", victim, r)), victim == "coordinator", args)
			check(err)
			ds = append(ds, d)
		}
		slices.Sort(ds)
		fmt.Printf("  %-16s min %v  median %v  max %v\n", victim, ds[0].Round(time.Millisecond), ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
	}
}

// killRun starts three nodes, lets the victim hold a lock on a key homed
// on a survivor while another survivor waits for it, kills the victim with
// SIGKILL and times the grant.
func killRun(bin, dir string, coordinator bool, args []string) (time.Duration, error) {
	pc, err := proccluster.Start(bin, dir, 3, args...)
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	var coord string
	for _, nd := range pc.Nodes {
		st, err := nd.Do("wait-members 3", 30*time.Second)
		if err != nil {
			return 0, err
		}
		coord = strings.TrimPrefix(strings.Fields(st)[1], "coord=")
	}
	var victim, waiter, home *proccluster.Node
	for _, nd := range pc.Nodes {
		switch {
		case victim == nil && (nd.Name == coord) == coordinator:
			victim = nd
		case waiter == nil:
			waiter = nd
		default:
			home = nd
		}
	}
	inode, err := victim.Do("findkey "+home.Name, 5*time.Second)
	if err != nil {
		return 0, err
	}
	if _, err := victim.Do("lock "+inode+" 0 10", 10*time.Second); err != nil {
		return 0, err
	}
	if _, err := waiter.Do("open "+inode, 10*time.Second); err != nil {
		return 0, err
	}
	if err := waiter.Send("lock " + inode + " 0 10"); err != nil {
		return 0, err
	}
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := victim.Kill(); err != nil {
		return 0, err
	}
	if _, err := waiter.Answer(20 * time.Second); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
