package lockdb

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shoal/lockdb/internal/proccluster"
)

// buildTestnode builds lockdb/internal/testnode into dir.
func buildTestnode(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "testnode")
	out, err := exec.Command("go", "build", "-o", bin, "shoal/lockdb/internal/testnode").CombinedOutput()
	if err != nil {
		t.Fatalf("go build testnode: %v\n%s", err, out)
	}
	return bin
}

// TestMultiProcessKill9 runs three real processes over TCP on 127.0.0.1,
// kills one with SIGKILL while it holds a lock a survivor waits for, and
// checks that the survivors grant again, for a non-coordinator and for
// the coordinator.
func TestMultiProcessKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	for _, victim := range []string{"other", "coordinator"} {
		t.Run(victim, func(t *testing.T) {
			dir := t.TempDir()
			bin := buildTestnode(t, dir)
			pc, err := proccluster.Start(bin, dir, 3)
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			var coord string
			for _, nd := range pc.Nodes {
				st, err := nd.Do("wait-members 3", 30*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				coord = strings.TrimPrefix(strings.Fields(st)[1], "coord=")
			}
			var dead, waiter *proccluster.Node
			for _, nd := range pc.Nodes {
				if (nd.Name == coord) == (victim == "coordinator") && dead == nil {
					dead = nd
				} else if waiter == nil {
					waiter = nd
				}
			}
			if waiter == dead || waiter == nil {
				for _, nd := range pc.Nodes {
					if nd != dead {
						waiter = nd
					}
				}
			}
			// A key homed on the third node, so neither the victim nor
			// the waiter is the home... unless the victim is: then its
			// keys move too. Try both shapes: home = the survivor that
			// is not the waiter.
			var third *proccluster.Node
			for _, nd := range pc.Nodes {
				if nd != dead && nd != waiter {
					third = nd
				}
			}
			inode, err := dead.Do("findkey "+third.Name, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dead.Do("lock "+inode+" 0 100", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if _, err := waiter.Do("open "+inode, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if err := waiter.Send("lock " + inode + " 0 100"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			start := time.Now()
			if err := dead.Kill(); err != nil {
				t.Fatal(err)
			}
			if _, err := waiter.Answer(15 * time.Second); err != nil {
				t.Fatalf("waiter after kill -9 of %s (%s): %v", dead.Name, victim, err)
			}
			t.Logf("kill -9 %s (%s) → %s granted after %v", dead.Name, victim, waiter.Name, time.Since(start).Round(time.Millisecond))
			// And a fresh lock on a key homed anywhere works on both survivors.
			for _, nd := range []*proccluster.Node{waiter, third} {
				if _, err := nd.Do("wait-members 2", 10*time.Second); err != nil {
					t.Fatal(err)
				}
				if _, err := nd.Do("lock 424242 0 1", 10*time.Second); err == nil {
					if _, err := nd.Do("unlock 424242 0 1", 10*time.Second); err != nil {
						t.Fatal(err)
					}
				} else {
					t.Fatal(err)
				}
			}
		})
	}
}
