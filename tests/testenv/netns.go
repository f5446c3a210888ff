package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
)

var netnsSeq atomic.Int32

// NewNetns creates a network namespace named prefix<pid>-<n> with its
// loopback up, for tests that need port 445 or iptables without touching
// the host, and deletes it when the test ends (after the processes in it,
// which are stopped by cleanups registered later). It needs root and ip:
// without them the test fails in CI and is skipped loudly elsewhere.
func NewNetns(t testing.TB, prefix string) string {
	t.Helper()
	Require(t, "ip")
	if os.Geteuid() != 0 {
		msg := prefix + ": creating a network namespace needs root"
		if InCI() {
			t.Fatal(msg)
		}
		t.Skipf("*** SKIPPED: %s ***", msg)
	}
	name := fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), netnsSeq.Add(1))
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
