package smb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"shoal/tests/cluster"
	"shoal/tests/testenv"
)

// twoNodeSuites are the suites whose subtests TestSmbtortureTwoNode runs
// against two cluster nodes (issue 5 point 7).
var twoNodeSuites = []string{
	"smb2.lock", "smb2.oplock", "smb2.lease", "smb2.sharemode",
	"smb2.durable-open", "smb2.durable-v2-open", "smb2.notify",
}

// twoNodePassListFile lists the subtests that must pass two-node.
const twoNodePassListFile = "smbtorture-2node-pass.txt"

// twoNodeHosts are worker w's two node addresses (127.0.0.2w+1 and
// 127.0.0.2w+2), both on one port: smbtorture's --unclist entries
// (//host/share) share the -p port.
func twoNodeHosts(w int) []string {
	return []string{fmt.Sprintf("127.0.0.%d", 2*w+1), fmt.Sprintf("127.0.0.%d", 2*w+2)}
}

// twoNodeSlow are subtests that wait for the 35 s break timeout or
// similar (on Samba too); they start first so that the workers finish
// together.
var twoNodeSlow = []string{"smb2.lease.timeout", "smb2.oplock.batch22a", "smb2.lease.oplock", "smb2.lease.break"}

// TestSmbtortureTwoNode runs smbtorture with --unclist naming two nodes of
// one lockdb cluster (noded -config, [cluster] section, one shared share
// directory): smbtorture's successive SMB2 connections alternate between
// the nodes, so a subtest's second client talks to the other node. One
// subtest per smbtorture process (placement is then deterministic). Two
// workers, each with its own two-node cluster (127.0.0.1/.2 and
// 127.0.0.3/.4), share the subtests: most of the time is spent waiting
// for break timeouts, not computing.
//
// The subtests run are the union of smbtorture-2node-pass.txt and the
// single-node pass list's entries in twoNodeSuites; the two-node pass list
// is enforced as TestSmbtorture enforces its own (SHOAL_UPDATE_PASSLIST=1
// adds new passes).
//
// Environment: SHOAL_SMBTORTURE_2NODE_TESTS (comma-separated subtests, or
// @FILE with one a line, instead of the lists; e.g.
// @/work/shared/anchors/smbtorture/samba-4.17-pass.txt, filtered to
// twoNodeSuites), SHOAL_SMBTORTURE_2NODE_TIMEOUT (per subtest, default
// 60s), SHOAL_SMBTORTURE_2NODE_BUDGET (all subtests, default 4m; subtests
// left over fail as "not run"), SHOAL_SMBTORTURE_2NODE_WORKERS (default
// 2), SHOAL_SMBTORTURE_ARGS, SHOAL_TEST_OUT.
func TestSmbtortureTwoNode(t *testing.T) {
	testenv.Require(t, "smbtorture")
	if testing.Short() {
		t.Skip("starts a two-node cluster")
	}
	if os.Getenv("SHOAL_TEST_SERVER") != "" {
		t.Skip("SHOAL_TEST_SERVER names one server; the two-node run starts its own cluster")
	}
	workers := 2
	if v := os.Getenv("SHOAL_SMBTORTURE_2NODE_WORKERS"); v != "" {
		if workers, _ = strconv.Atoi(v); workers < 1 || workers > 8 {
			t.Fatalf("SHOAL_SMBTORTURE_2NODE_WORKERS=%q: want 1..8", v)
		}
	}
	for w := range workers {
		for _, h := range twoNodeHosts(w) {
			l, err := net.Listen("tcp", net.JoinHostPort(h, "0"))
			if err != nil {
				t.Skipf("cannot listen on %s (loopback beyond 127.0.0.1): %v", h, err)
			}
			l.Close()
		}
	}
	pass, err := readPassList(twoNodePassListFile)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := twoNodeTests(pass)
	if err != nil {
		t.Fatal(err)
	}
	timeout := envDuration(t, "SHOAL_SMBTORTURE_2NODE_TIMEOUT", 60*time.Second)
	budgetEnd := time.Now().Add(envDuration(t, "SHOAL_SMBTORTURE_2NODE_BUDGET", 4*time.Minute))
	if d, ok := t.Deadline(); ok && d.Add(-time.Minute).Before(budgetEnd) {
		budgetEnd = d.Add(-time.Minute)
	}
	// A sibling of tortureOutDir, so that tests/all.sh prints its summary.
	out := filepath.Join(filepath.Dir(tortureOutDir(t)), "smbtorture-2node")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	queue := make(chan string, len(tests))
	for _, name := range tests {
		queue <- name
	}
	close(queue)
	var (
		mu  sync.Mutex
		all []Result
		wg  sync.WaitGroup
	)
	for w := range workers {
		tc, err := newTwoNodeCluster(t, twoNodeHosts(w))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tc.stop()
			for name := range queue {
				if time.Until(budgetEnd) < 5*time.Second {
					if pass[name] {
						t.Errorf("REGRESSION: %s is in %s but did not run: the time budget is used up", name, twoNodePassListFile)
					}
					continue
				}
				port, err := tc.ensure(t)
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					if pass[name] {
						t.Errorf("REGRESSION: %s is in %s but did not run", name, twoNodePassListFile)
					}
					continue
				}
				results := runTortureTwoNode(t, port, tc.hosts, tc.unclist, name, min(timeout, time.Until(budgetEnd)), out)
				mu.Lock()
				all = append(all, results...)
				mu.Unlock()
				seen := false
				for _, r := range results {
					seen = seen || r.Name == name
					t.Logf("%-64s %-10s %7.2fs", r.Name, r.Outcome, r.Elapsed.Seconds())
					if pass[r.Name] && r.Outcome != Pass {
						t.Errorf("REGRESSION: %s is in %s but %s: %s", r.Name, twoNodePassListFile, r.Outcome, firstLine(r.Detail))
					}
				}
				if pass[name] && !seen {
					t.Errorf("REGRESSION: %s is in %s but did not run", name, twoNodePassListFile)
				}
			}
		}()
	}
	wg.Wait()
	reportTwoNode(t, all, pass, out)
}

// twoNodeTests returns the subtests to run: those of the pass list first,
// each group sorted with twoNodeSlow at its head.
func twoNodeTests(pass map[string]bool) ([]string, error) {
	inSuites := func(name string) bool {
		return slices.ContainsFunc(twoNodeSuites, func(s string) bool { return inSuite(name, s) })
	}
	set := map[string]bool{}
	if env := os.Getenv("SHOAL_SMBTORTURE_2NODE_TESTS"); env != "" {
		if f, ok := strings.CutPrefix(env, "@"); ok {
			list, err := readPassList(f)
			if err != nil {
				return nil, err
			}
			for name := range list {
				if inSuites(name) {
					set[name] = true
				}
			}
		} else {
			for _, name := range strings.Split(env, ",") {
				set[strings.TrimSpace(name)] = true
			}
		}
	} else {
		single, err := readPassList(passListFile)
		if err != nil {
			return nil, err
		}
		for name := range single {
			if inSuites(name) {
				set[name] = true
			}
		}
		for name := range pass {
			set[name] = true
		}
	}
	tests := make([]string, 0, len(set))
	for name := range set {
		tests = append(tests, name)
	}
	// Listed subtests first: candidates that fail (and may wait for their
	// timeout) must not push a listed one out of the time budget.
	slices.SortFunc(tests, func(a, b string) int {
		if sa, sb := slices.Contains(twoNodeSlow, a), slices.Contains(twoNodeSlow, b); sa != sb && pass[a] == pass[b] {
			if sa {
				return -1
			}
			return 1
		}
		if pass[a] != pass[b] {
			if pass[a] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return tests, nil
}

// twoNodeCluster is the cluster the subtests share; it is started again
// when a node has died (so one crash does not fail every later subtest,
// and the crash itself is reported).
type twoNodeCluster struct {
	hosts   []string
	unclist string
	c       *cluster.Cluster
	port    int
	noded   string
	nodectl string
	logs    []*prefixLog
}

func newTwoNodeCluster(t *testing.T, hosts []string) (*twoNodeCluster, error) {
	dir := t.TempDir()
	tc := &twoNodeCluster{hosts: hosts, noded: testenv.BuildNoded(t),
		nodectl: testenv.BuildNodectl(t), unclist: filepath.Join(dir, "unclist")}
	var ul strings.Builder
	for _, h := range hosts {
		fmt.Fprintf(&ul, "//%s/data\n", h)
	}
	if err := os.WriteFile(tc.unclist, []byte(ul.String()), 0o644); err != nil {
		return nil, err
	}
	return tc, nil
}

// ensure returns the SMB port of a running cluster, starting one if there
// is none or a node has exited (reported as an error of the test). Safe to
// call from a worker goroutine (it never calls t.Fatal).
func (tc *twoNodeCluster) ensure(t *testing.T) (int, error) {
	if tc.c != nil {
		dead := ""
		for _, n := range tc.c.Nodes {
			if n.Exited() {
				dead += " " + n.Name
			}
		}
		if dead == "" {
			return tc.port, nil
		}
		t.Errorf("node(s)%s on %v exited during the run (output above); starting a new cluster", dead, tc.hosts)
		tc.stop()
	}
	dir, err := os.MkdirTemp("", "sh2n")
	if err != nil {
		return 0, err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := cluster.FreePortOn(tc.hosts...)
	if err != nil {
		return 0, err
	}
	cfg := cluster.Config{Nodes: len(tc.hosts), Dir: dir, Noded: tc.noded, Nodectl: tc.nodectl,
		Hosts: tc.hosts, SMBPort: port, Signing: "enabled", TortureHooks: true}
	cfg.TestTimings()
	tc.logs = nil
	cfg.Output = func(i int) io.Writer {
		l := &prefixLog{t: t, prefix: fmt.Sprintf("%s: ", tc.hosts[i])}
		tc.logs = append(tc.logs, l)
		return l
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := cluster.Start(ctx, cfg)
	for try := 1; err != nil && errors.Is(err, cluster.ErrStart) && try < 3; try++ {
		// a port picked free was taken before a node bound it
		t.Logf("cluster start on %v: %v; again with another port", tc.hosts, err)
		if cfg.SMBPort, err = cluster.FreePortOn(tc.hosts...); err == nil {
			c, err = cluster.Start(ctx, cfg)
		}
	}
	if err != nil {
		return 0, err
	}
	tc.c, tc.port = c, cfg.SMBPort
	if err := c.AddUser(ctx, "tester", "Tester-pw-2n"); err != nil {
		return 0, err
	}
	return tc.port, nil
}

func (tc *twoNodeCluster) stop() {
	if tc.c != nil {
		tc.c.Stop()
		tc.c = nil
	}
	for _, l := range tc.logs {
		l.close()
	}
}

// runTortureTwoNode runs one subtest in its own smbtorture process with
// --unclist; files go to out/<subtest>.{subunit,log,rc}.
func runTortureTwoNode(t *testing.T, port int, hosts []string, unclist, name string, timeout time.Duration, out string) []Result {
	args := []string{"//" + hosts[0] + "/data", "-p", strconv.Itoa(port),
		"-U", "tester%Tester-pw-2n", "--fullname", "--format=subunit",
		"--basedir=" + t.TempDir(), "--unclist=" + unclist,
		fmt.Sprintf("--maximum-runtime=%d", max(1, int(timeout.Seconds())))}
	args = append(args, tortureArgs...)
	args = append(args, strings.Fields(os.Getenv("SHOAL_SMBTORTURE_ARGS"))...)
	args = append(args, name)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "smbtorture", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	runErr := cmd.Run()
	timedOut := ctx.Err() != nil || time.Since(start) >= timeout
	rc := cmd.ProcessState.ExitCode()
	base := filepath.Join(out, name)
	os.WriteFile(base+".subunit", stdout.Bytes(), 0o644)
	os.WriteFile(base+".log", stderr.Bytes(), 0o644)
	os.WriteFile(base+".rc", []byte(strconv.Itoa(rc)+"\n"), 0o644)
	results, perr := ParseSubunit(bytes.NewReader(stdout.Bytes()))
	if perr != nil {
		t.Logf("smbtorture %s: %v", name, perr)
	}
	for i := range results {
		if results[i].Outcome == Incomplete && timedOut {
			results[i].Outcome, results[i].Detail = Error, "timeout: smbtorture stopped after "+timeout.String()
		}
	}
	if len(results) == 0 {
		results = append(results, Result{Name: name, Outcome: Error, Detail: fmt.Sprintf("no subtest ran: %v; output: %s",
			runErr, lastLines(stdout.String()+"\n"+stderr.String(), 5))})
	}
	return results
}

// reportTwoNode logs the count, names new passes, rewrites the list on
// request, and leaves results.tsv and summary.txt in out.
func reportTwoNode(t *testing.T, all []Result, pass map[string]bool, out string) {
	var passed, failed, skipped int
	var newPass []string
	var tsv strings.Builder
	for _, r := range all {
		fmt.Fprintf(&tsv, "%s\t%s\t%.2f\n", r.Name, r.Outcome, r.Elapsed.Seconds())
		switch r.Outcome {
		case Pass:
			passed++
			if !pass[r.Name] {
				newPass = append(newPass, r.Name)
			}
		case Skip, XFail:
			skipped++
		default:
			failed++
		}
	}
	lines := []string{fmt.Sprintf("smbtorture two-node: %d passed, %d failed, %d skipped", passed, failed, skipped)}
	lines = append(lines, newPassLines(t, "", twoNodePassListFile, pass, all, twoNodeSuites, newPass)...)
	writeSummary(t, out, lines, tsv.String())
}

// prefixLog hands a node's output to t.Log line by line until closed, and
// fails the test on a data race or panic.
type prefixLog struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
	closed bool
}

func (l *prefixLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(l.buf[:i])
		l.buf = l.buf[i+1:]
		l.t.Log(l.prefix + line)
		if strings.Contains(line, "WARNING: DATA RACE") || strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			l.t.Errorf("%sprinted %q", l.prefix, line)
		}
	}
}

func (l *prefixLog) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}
