package smb

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
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

// TestSmbtortureNetns runs netnsTortureTests with
// torture:use_iptables=yes against one node in a new network namespace,
// smbtorture and iptables running in that namespace too, and requires each
// to pass. Needs root, ip and iptables (a failure in CI when missing).
func TestSmbtortureNetns(t *testing.T) {
	testenv.Require(t, "smbtorture")
	testenv.Require(t, "ip")
	testenv.Require(t, "iptables")
	if os.Geteuid() != 0 {
		msg := "smbtorture netns: creating a network namespace needs root"
		if testenv.InCI() {
			t.Fatal(msg)
		}
		t.Skipf("*** SKIPPED: %s ***", msg)
	}
	ipt, err := exec.LookPath("iptables")
	if err != nil {
		t.Fatal(err)
	}
	out := tortureOutDir(t)
	for _, name := range netnsTortureTests {
		t.Run(name, func(t *testing.T) {
			ns := newTortureNetns(t)
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
			passed := false
			for _, r := range results {
				t.Logf("%-40s %-10s %7.2fs", r.Name, r.Outcome, r.Elapsed.Seconds())
				if r.Name == name && r.Outcome == Pass {
					passed = true
				} else if r.Outcome != Pass {
					t.Errorf("%s %s: %s", r.Name, r.Outcome, r.Detail)
				}
			}
			if !passed || runErr != nil {
				t.Errorf("%s did not pass (exit %v); output:\n%s", name, runErr,
					lastLines(stdout.String()+"\n"+stderr.String(), 30))
			}
		})
	}
}

// newTortureNetns creates a network namespace with its loopback up and
// deletes it when the test ends (after the node, whose cleanup is
// registered later and so runs first).
func newTortureNetns(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("shoaltort%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up in %s: %v: %s", name, err, out)
	}
	return name
}
