package smb

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/tests/testenv"
)

// torture suites that CI runs, one smbtorture process each (issue 2).
var tortureSuites = []string{
	// issue 2
	"smb2.connect", "smb2.read", "smb2.rw", "smb2.getinfo", "smb2.create",
	"smb2.dir", "smb2.credits", "smb2.compound", "smb2.rename",
	"smb2.delete-on-close-perms", "smb2.maxfid",
	// issue 5 (single node; tests/smb2node runs them across two nodes)
	"smb2.lock", "smb2.oplock", "smb2.lease", "smb2.sharemode",
	"smb2.durable-open", "smb2.durable-v2-open", "smb2.notify",
	// what Windows clients lean on besides
	"smb2.ioctl", "smb2.session", "smb2.streams",
}

// passListFile lists, one full name a line, every subtest that must pass.
const passListFile = "smbtorture-pass.txt"

// tortureArgs are the smbtorture options of Samba's own selftest for the
// samba3 file server (selftest/selftesthelpers.py, source3/selftest/tests.py)
// that make sense against a server on loopback: no progress noise, and the
// delays its share-mode and write-time tests wait for.
var tortureArgs = []string{
	"--option=torture:progress=no",
	"--option=torture:sharedelay=100000",
	"--option=torture:writetimeupdatedelay=500000",
}

// TestSmbtorture runs the smbtorture suites against a fresh server each
// (testenv.Server) and enforces the pass list: a listed subtest that does
// not pass fails the test, naming it. Subtests that pass but are not listed
// are reported as "new pass, add to the list"; SHOAL_UPDATE_PASSLIST=1
// rewrites the list with them.
//
// Environment: SHOAL_SMBTORTURE_SUITES (comma-separated, default all of
// tortureSuites), SHOAL_SMBTORTURE_TIMEOUT (per suite, default 4m),
// SHOAL_SMBTORTURE_BUDGET (all suites together, default 15m: a server that
// hangs must not eat CI's time; suites left over fail as "not run"),
// SHOAL_SMBTORTURE_ARGS (extra arguments, space-separated),
// SHOAL_TEST_OUT (where results go, default <repo>/tests/out).
func TestSmbtorture(t *testing.T) {
	testenv.Require(t, "smbtorture")
	suites := tortureSuites
	if s := os.Getenv("SHOAL_SMBTORTURE_SUITES"); s != "" {
		suites = strings.Split(s, ",")
	}
	timeout := envDuration(t, "SHOAL_SMBTORTURE_TIMEOUT", 4*time.Minute)
	budgetEnd := time.Now().Add(envDuration(t, "SHOAL_SMBTORTURE_BUDGET", 15*time.Minute))
	if d, ok := t.Deadline(); ok && d.Add(-time.Minute).Before(budgetEnd) {
		budgetEnd = d.Add(-time.Minute) // leave go test's -timeout a minute to report
	}
	pass, err := readPassList(passListFile)
	if err != nil {
		t.Fatal(err)
	}
	out := tortureOutDir(t)

	var all []Result
	for _, suite := range suites {
		t.Run(suite, func(t *testing.T) {
			left := time.Until(budgetEnd)
			if left < 10*time.Second {
				t.Errorf("smbtorture %s not run: the time budget for all suites is used up", suite)
				for name := range pass {
					if inSuite(name, suite) {
						t.Errorf("REGRESSION: %s is in %s but did not run", name, passListFile)
					}
				}
				return
			}
			// Samba's reference configuration does not require signing, and
			// smbtorture's compound tests send deliberately unsigned requests
			// on a session copy: run them as Samba is run. The smbtorture-only
			// FSCTLs are answered as with Samba's "smbd:FSCTL_SMBTORTURE".
			n := testenv.Server(t, "-signing", "enabled", "-torture-hooks")
			results := runTorture(t, n, suite, min(timeout, left), out)
			all = append(all, results...)
			seen := map[string]bool{}
			for _, r := range results {
				seen[r.Name] = true
				t.Logf("%-64s %-10s %7.2fs", r.Name, r.Outcome, r.Elapsed.Seconds())
				if pass[r.Name] && r.Outcome != Pass && !netnsOnly(r.Name) {
					t.Errorf("REGRESSION: %s is in %s but %s: %s", r.Name, passListFile, r.Outcome, firstLine(r.Detail))
				}
			}
			for name := range pass {
				if inSuite(name, suite) && !seen[name] && !netnsOnly(name) {
					t.Errorf("REGRESSION: %s is in %s but did not run", name, passListFile)
				}
			}
		})
	}
	report(t, all, suites, pass, out)
}

// runTorture runs one suite in its own smbtorture process against n and
// returns its subtests. The subunit stream, stderr and exit status are kept
// in out/<suite>.{subunit,log,rc}.
func runTorture(t *testing.T, n *testenv.Node, suite string, timeout time.Duration, out string) []Result {
	t.Helper()
	args := []string{"//" + n.Host + "/" + n.Share, "-p", strconv.Itoa(n.Port),
		"-U", n.User + "%" + n.Pass, "--fullname", "--format=subunit",
		"--basedir=" + t.TempDir(),
		fmt.Sprintf("--maximum-runtime=%d", int(timeout.Seconds()))}
	args = append(args, tortureArgs...)
	args = append(args, strings.Fields(os.Getenv("SHOAL_SMBTORTURE_ARGS"))...)
	args = append(args, suite)

	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "smbtorture", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	runErr := cmd.Run()
	// smbtorture's own --maximum-runtime usually stops it first.
	timedOut := ctx.Err() != nil || time.Since(start) >= timeout
	rc := cmd.ProcessState.ExitCode()
	t.Logf("smbtorture %s: exit %d after %.1fs%s", suite, rc, time.Since(start).Seconds(),
		map[bool]string{true: " (suite timeout)", false: ""}[timedOut])

	base := filepath.Join(out, suite)
	os.WriteFile(base+".subunit", stdout.Bytes(), 0o644)
	os.WriteFile(base+".log", stderr.Bytes(), 0o644)
	os.WriteFile(base+".rc", []byte(strconv.Itoa(rc)+"\n"), 0o644)

	results, perr := ParseSubunit(bytes.NewReader(stdout.Bytes()))
	if perr != nil {
		t.Errorf("smbtorture %s: %v (stream in %s.subunit)", suite, perr, base)
	}
	for i := range results {
		if results[i].Outcome == Incomplete && timedOut {
			results[i].Outcome, results[i].Detail = Error, "timeout: smbtorture stopped after "+timeout.String()
		}
	}
	if len(results) == 0 {
		// Nothing ran (unknown suite, smbtorture broken): the runner failed.
		detail := fmt.Sprintf("no subtest ran: %v; output: %s", runErr,
			lastLines(stdout.String()+"\n"+stderr.String(), 5))
		t.Errorf("smbtorture %s: %s", suite, detail)
		results = append(results, Result{Name: suite, Outcome: Error, Detail: detail})
	}
	return results
}

// report prints the closing count, names new passes, rewrites the pass list
// on request, and leaves results.tsv and summary.txt in out.
func report(t *testing.T, all []Result, suites []string, pass map[string]bool, out string) {
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
	summary := fmt.Sprintf("smbtorture: %d passed, %d failed", passed, failed)
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	lines := append([]string{summary}, newPassLines(t, "smbtorture: ", passListFile, pass, all, suites, newPass)...)
	writeSummary(t, out, lines, tsv.String())
}

// newPassLines reports subtests that pass but are not in file, and with
// SHOAL_UPDATE_PASSLIST=1 rewrites file to list them.
func newPassLines(t *testing.T, prefix, file string, pass map[string]bool, all []Result, suites, newPass []string) []string {
	if len(newPass) == 0 {
		return nil
	}
	if os.Getenv("SHOAL_UPDATE_PASSLIST") == "1" {
		if err := writePassList(file, pass, all, suites); err != nil {
			t.Errorf("update %s: %v", file, err)
		}
		return []string{fmt.Sprintf("%s%d new passes written to tests/smb/%s", prefix, len(newPass), file)}
	}
	lines := []string{fmt.Sprintf("%s%d NEW PASSES, add them to tests/smb/%s (SHOAL_UPDATE_PASSLIST=1 does):", prefix, len(newPass), file)}
	for _, name := range newPass {
		lines = append(lines, "  new pass, add to the list: "+name)
	}
	return lines
}

// writeSummary logs lines and leaves them and the result table in out
// (tests/all.sh prints every summary.txt).
func writeSummary(t *testing.T, out string, lines []string, tsv string) {
	t.Helper()
	for _, l := range lines {
		t.Log(l)
	}
	os.WriteFile(filepath.Join(out, "results.tsv"), []byte(tsv), 0o644)
	os.WriteFile(filepath.Join(out, "summary.txt"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// readPassList reads one subtest name a line; blank lines and # comments
// are ignored.
func readPassList(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pass := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			pass[line] = true
		}
	}
	return pass, sc.Err()
}

// writePassList rewrites path: its leading comment block, then the sorted
// union of the old entries and every subtest that passed now. Entries of
// the suites that ran and did not pass now are kept too (the list only
// grows by hand-free updates; removing a name is a reviewed decision).
func writePassList(path string, old map[string]bool, results []Result, suites []string) error {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var head []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			break
		}
		head = append(head, l)
	}
	names := map[string]bool{}
	for name := range old {
		names[name] = true
	}
	for _, r := range results {
		if r.Outcome == Pass {
			names[r.Name] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for name := range names {
		sorted = append(sorted, name)
	}
	slices.Sort(sorted)
	content := strings.Join(append(head, sorted...), "\n") + "\n"
	return os.WriteFile(path, []byte(content), 0o644)
}

// inSuite reports whether subtest name belongs to suite.
func inSuite(name, suite string) bool {
	return name == suite || strings.HasPrefix(name, suite+".")
}

// tortureOutDir is where the runner keeps subunit streams and summaries:
// $SHOAL_TEST_OUT/smbtorture, default <repo>/tests/out/smbtorture (tests/all.sh
// prints every tests/out/*/summary.txt).
func tortureOutDir(t *testing.T) string {
	base := os.Getenv("SHOAL_TEST_OUT")
	if base == "" {
		root, err := testenv.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		base = filepath.Join(root, "tests", "out")
	}
	dir := filepath.Join(base, "smbtorture")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 90s", name, s)
	}
	return d
}
