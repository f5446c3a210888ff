package mail

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestDiskFull: on a 1 MiB tmpfs the node answers 452 4.3.1 once the disk
// is full, every message answered 250 is intact, nothing partial is left in
// new/ or tmp/, and delivery works again once there is room.
func TestDiskFull(t *testing.T) {
	requireRoot(t, "mounts a small tmpfs")
	if _, err := exec.LookPath("mount"); err != nil {
		t.Fatalf("mount: %v", err)
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "shoal-test", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	mkMaildirs(t, mnt, "ann", "bob")
	n := startNode(t, mnt, "node1")
	t.Cleanup(n.stop) // runs before the umount

	rng := rand.New(rand.NewPCG(5, 5))
	accepted := map[string]bool{}
	full := 0
	for i := 0; i < 30 && full < 3; i++ {
		m := newMessage(fmt.Sprintf("df%d", i), 60000+rng.IntN(60000), rng)
		rcpts := []string{"ann@example.test", "bob@example.test"}
		codes, err := sendLMTP(n.addr, "s@example.org", rcpts, m)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		for _, r := range rcpts {
			switch c := codes[r]; {
			case c.Code == 250:
				accepted[m.id+" "+r] = true
			case c.Code == 452 && c.Enh == smtp.EnhancedCode{4, 3, 1}:
				full++
			default:
				t.Errorf("message %d to %s: %v", i, r, c)
			}
		}
	}
	if len(accepted) == 0 || full == 0 {
		t.Fatalf("%d copies accepted, %d refused as disk full; want some of each", len(accepted), full)
	}
	verify := func() {
		for _, u := range []string{"ann", "bob"} {
			files, tmp := scanMaildir(t, maildirOf(mnt, u))
			if tmp != 0 {
				t.Errorf("%s: %d files left in tmp/", u, tmp)
			}
			seen := map[string]bool{}
			for _, f := range files {
				if !f.ok {
					t.Errorf("%s: partial or corrupt: %s", f.path, f.why)
				}
				if !accepted[f.id+" "+u+"@example.test"] {
					t.Errorf("%s: %s stored but not accepted", u, f.id)
				}
				seen[f.id] = true
			}
			for k := range accepted {
				id, r, _ := strings.Cut(k, " ")
				if r == u+"@example.test" && !seen[id] {
					t.Errorf("%s: accepted %s is missing", u, id)
				}
			}
		}
	}
	verify()
	t.Logf("%d copies accepted, %d answered 452 4.3.1", len(accepted), full)

	// make room: delivery works again
	files, _ := scanMaildir(t, maildirOf(mnt, "ann"))
	for _, f := range files {
		os.Remove(f.path)
		id := f.id
		delete(accepted, id+" ann@example.test")
	}
	m := newMessage("after", 1000, rng)
	codes, err := sendLMTP(n.addr, "s@example.org", []string{"ann@example.test"}, m)
	if err != nil || codes["ann@example.test"].Code != 250 {
		t.Fatalf("after freeing space: %v %v", codes, err)
	}
	accepted[m.id+" ann@example.test"] = true
	verify()
}

// TestKillMidDelivery: a node is killed with SIGKILL while many large
// messages are being written. Every message answered 250 must be in new/
// exactly once and intact; whatever else is in new/ must be complete too
// (delivered, but the reply was lost with the process); only tmp/ may hold
// debris. A new node on the same mail root then delivers normally.
func TestKillMidDelivery(t *testing.T) {
	root := t.TempDir()
	users := []string{"ann", "bob", "cy"}
	mkMaildirs(t, root, users...)
	accepted := map[string]map[string]bool{} // user -> ids
	for _, u := range users {
		accepted[u] = map[string]bool{}
	}
	// messages are made before the node starts, so that the clients keep
	// it busy writing when the kill comes
	const clients, perClient = 6, 12
	msgs := make([][]testMessage, clients)
	for c := range msgs {
		rng := rand.New(rand.NewPCG(uint64(c), 99))
		for k := 0; k < perClient; k++ {
			msgs[c] = append(msgs[c], newMessage(fmt.Sprintf("k%dm%d", c, k), 100000+rng.IntN(500000), rng))
		}
	}
	debris, extra := 0, 0
	// round 0 kills early, round 1 in the thick of it: after this many
	// accepted copies (counted over both rounds), whatever the machine's speed
	for round, after := range []int{3, 40} {
		n := startNode(t, root, fmt.Sprintf("victim%d", round))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(c), uint64(round)))
				for _, m0 := range msgs[c] {
					m := m0
					m.id = fmt.Sprintf("r%d%s", round, m0.id)
					m.wire = []byte(strings.Replace(string(m0.wire), "X-Test-ID: "+m0.id, "X-Test-ID: "+m.id, 1))
					rcpts := []string{users[rng.IntN(3)] + "@example.test", users[rng.IntN(3)] + "@example.test"}
					codes, err := sendLMTP(n.addr, "s@example.org", rcpts, m)
					mu.Lock()
					for r, code := range codes {
						if code.Code == 250 {
							accepted[strings.TrimSuffix(r, "@example.test")][m.id] = true
						}
					}
					mu.Unlock()
					if err != nil {
						return // the node is gone
					}
				}
			}(c)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			got := 0
			for _, ids := range accepted {
				got += len(ids)
			}
			mu.Unlock()
			if got >= after || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		n.kill()
		wg.Wait()

		total := 0
		for _, u := range users {
			files, tmp := scanMaildir(t, maildirOf(root, u))
			debris += tmp
			seen := map[string]int{}
			for _, f := range files {
				if !f.ok {
					t.Errorf("%s: partial or corrupt file in new/: %s", f.path, f.why)
				}
				seen[f.id]++
				if !accepted[u][f.id] && strings.HasPrefix(f.id, fmt.Sprintf("r%d", round)) {
					extra++
				}
			}
			for id := range accepted[u] {
				if seen[id] != 1 {
					t.Errorf("%s: %s answered 250, stored %d times", u, id, seen[id])
				}
			}
			total += len(accepted[u])
		}
		if total == 0 {
			t.Fatalf("round %d: nothing was accepted before the kill", round)
		}
		t.Logf("round %d: killed after %d accepted copies; %d copies accepted so far, %d complete copies without a reply, %d files of debris in tmp/",
			round, after, total, extra, debris)
	}

	n2 := startNode(t, root, "survivor")
	m := newMessage("after-kill", 5000, rand.New(rand.NewPCG(1, 1)))
	codes, err := sendLMTP(n2.addr, "s@example.org", []string{"ann@example.test"}, m)
	if err != nil || codes["ann@example.test"].Code != 250 {
		t.Fatalf("new node after the kill: %v %v", codes, err)
	}
	if _, err := os.Stat(filepath.Join(maildirOf(root, "ann"), "new")); err != nil {
		t.Fatal(err)
	}
}
