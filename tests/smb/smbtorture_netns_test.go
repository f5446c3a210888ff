package smb

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/tests/cluster"
	"shoal/tests/testenv"
)

// netnsTortureTests are the smbtorture subtests that block a transport
// with iptables (source4/torture/smb2/block.c): they add DROP rules to the
// OUTPUT chain, so they run only inside a network namespace of their own,
// never against the host's firewall.
var netnsTortureTests = []string{"smb2.oplock.batch22b"}

// netnsOnly reports whether the pass list entry name is enforced by
// TestSmbtortureNetns only (TestSmbtorture runs its suite without
// iptables, where it cannot pass).
func netnsOnly(name string) bool { return slices.Contains(netnsTortureTests, name) }

// TestSmbtortureNetns runs netnsTortureTests with
// torture:use_iptables=yes against one node in a new network namespace,
// smbtorture and iptables running in that namespace too. A subtest in
// passListFile must pass; every subtest must run and get past its iptables
// setup (that part is this test's own machinery and always fails the
// test). Needs root, ip and iptables (a failure in CI when missing).
func TestSmbtortureNetns(t *testing.T) {
	testenv.Require(t, "smbtorture")
	testenv.Require(t, "iptables")
	ipt, err := exec.LookPath("iptables")
	if err != nil {
		t.Fatal(err)
	}
	pass, err := readPassList(passListFile)
	if err != nil {
		t.Fatal(err)
	}
	out := tortureOutDir(t)
	for _, name := range netnsTortureTests {
		t.Run(name, func(t *testing.T) {
			ns := testenv.NewNetns(t, "shoaltort")
			c := cluster.StartForTest(t, 1, func(cfg *cluster.Config) {
				cfg.Netns, cfg.Host, cfg.SMBPort = ns, "127.0.0.1", 445
				// as TestSmbtorture runs its suites (see there)
				cfg.Signing, cfg.TortureHooks = "enabled", true
			})
			host, port, _ := strings.Cut(c.Nodes[0].SMBAddr, ":")
			args := []string{"netns", "exec", ns, "smbtorture",
				"//" + host + "/data", "-p", port,
				"-U", cluster.TestUser + "%" + cluster.TestPass,
				"--fullname", "--format=subunit", "--basedir=" + t.TempDir(),
				"--maximum-runtime=120",
				"--option=torture:use_iptables=yes",
				"--option=torture:iptables_command=" + ipt}
			args = append(args, tortureArgs...)
			args = append(args, name)
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "ip", args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.WaitDelay = 10 * time.Second
			start := time.Now()
			runErr := cmd.Run()
			t.Logf("smbtorture %s in %s: %v after %.1fs", name, ns, runErr, time.Since(start).Seconds())
			base := out + "/netns-" + name
			os.WriteFile(base+".subunit", stdout.Bytes(), 0o644)
			os.WriteFile(base+".log", stderr.Bytes(), 0o644)
			os.WriteFile(base+".rc", []byte(strconv.Itoa(cmd.ProcessState.ExitCode())+"\n"), 0o644)

			results, perr := ParseSubunit(bytes.NewReader(stdout.Bytes()))
			if perr != nil {
				t.Errorf("%s: %v (stream in %s.subunit)", name, perr, base)
			}
			checkNetnsResult(t, name, results, pass[name],
				lastLines(stdout.String()+"\n"+stderr.String(), 30))
		})
	}
}

// checkNetnsResult fails t when name did not run, when smbtorture could not
// block its transport (iptables in the namespace is broken), or when name
// is listed (mustPass) and did not pass; a pass that is not listed is
// reported for the list.
func checkNetnsResult(t *testing.T, name string, results []Result, mustPass bool, tail string) {
	t.Helper()
	var got *Result
	for i, r := range results {
		t.Logf("%-40s %-10s %7.2fs %s", r.Name, r.Outcome, r.Elapsed.Seconds(), firstLine(r.Detail))
		if r.Name == name {
			got = &results[i]
		}
	}
	switch {
	case got == nil:
		t.Errorf("%s did not run; output:\n%s", name, tail)
	case strings.Contains(got.Detail, "blocked_transports") ||
		strings.Contains(got.Detail, "block_smb2_transport") ||
		strings.Contains(got.Detail, "could not block"):
		// the asserts around block.c's calls
		t.Errorf("%s: smbtorture could not block its transport with iptables in the namespace: %s\noutput:\n%s", name, got.Detail, tail)
	case got.Outcome == Pass && !mustPass:
		t.Logf("new pass, add to %s: %s", passListFile, name)
	case got.Outcome != Pass && mustPass:
		t.Errorf("REGRESSION: %s is in %s but %s: %s\noutput:\n%s", name, passListFile, got.Outcome, got.Detail, tail)
	case got.Outcome != Pass:
		t.Logf("KNOWN FAILURE (not in %s): %s %s: %s\noutput:\n%s", passListFile, name, got.Outcome, got.Detail, tail)
	}
}
