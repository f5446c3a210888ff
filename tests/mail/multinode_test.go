package mail

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"shoal/tests/testenv"
)

// TestThreeNodesOneMailRoot: three delivering processes share one mail root;
// concurrent multi-recipient transactions to all of them land in the same
// mailboxes. Every 250 must be exactly one intact copy (body hash, size tag,
// trace headers), nothing may be lost, duplicated or left in tmp/, and the
// Maildir++ maildirsize files that all three append to must add up exactly.
func TestThreeNodesOneMailRoot(t *testing.T) {
	root := t.TempDir()
	var nodes []*node
	runThreeNodes(t, root, true, func(i int) string {
		n := startNode(t, root, fmt.Sprintf("node%d", i), "-quota-bytes", "1000000000")
		nodes = append(nodes, n)
		return n.addr
	}, func() {
		for _, n := range nodes {
			n.stop()
		}
	})
}

// TestThreeNodedOneMailRoot is the same with three real `noded -dev`
// processes sharing one -data directory (mail root DIR/mail). noded -dev has
// no quota, so maildirsize is not checked here.
func TestThreeNodedOneMailRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds noded")
	}
	data := t.TempDir()
	var nodes []*testenv.Node
	runThreeNodes(t, filepath.Join(data, "mail"), false, func(i int) string {
		n := testenv.StartNoded(t, "-data", data, "-node", fmt.Sprintf("noded%d", i))
		n.WaitLMTP(t)
		nodes = append(nodes, n)
		return n.LMTPAddr
	}, func() {
		for _, n := range nodes {
			if err := n.Stop(); err != nil {
				t.Errorf("noded stop: %v", err)
			}
		}
	})
}

// runThreeNodes starts three nodes with start(1..3) on mail root root,
// loads them concurrently, stops them with stopAll and checks every mailbox.
func runThreeNodes(t *testing.T, root string, quota bool, start func(i int) string, stopAll func()) {
	users := []string{"ann", "bob", "cy", "dee", "eve", "fay"}
	mkMaildirs(t, root, users...)
	var nodes []struct{ addr string }
	for i := 1; i <= 3; i++ {
		nodes = append(nodes, struct{ addr string }{start(i)})
	}
	// one message per mailbox first: creates maildirsize (a recount)
	rng := rand.New(rand.NewPCG(1, 2))
	type key struct{ id, user string }
	var mu sync.Mutex
	codes := map[key]int{}
	for i, u := range users {
		m := newMessage(fmt.Sprintf("warm%d", i), 500, rng)
		got, err := sendLMTP(nodes[i%3].addr, "s@example.org", []string{u + "@example.test"}, m)
		if err != nil || got[u+"@example.test"].Code != 250 {
			t.Fatalf("warm-up %s: %v %v", u, got, err)
		}
		codes[key{m.id, u}] = 250
	}

	const clientsPerNode, msgsPerClient = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, 3*clientsPerNode)
	for ni, n := range nodes {
		for c := 0; c < clientsPerNode; c++ {
			wg.Add(1)
			go func(addr string, ni, c int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(ni), uint64(c)))
				for k := 0; k < msgsPerClient; k++ {
					id := fmt.Sprintf("n%dc%dm%d", ni, c, k)
					m := newMessage(id, 200+rng.IntN(60000), rng)
					var rcpts []string
					for _, p := range rng.Perm(len(users))[:1+rng.IntN(3)] {
						rcpts = append(rcpts, users[p]+"@example.test")
					}
					got, err := sendLMTP(addr, "s@example.org", rcpts, m)
					if err != nil {
						errs <- fmt.Errorf("%s: %v", id, err)
						return
					}
					mu.Lock()
					for r, code := range got {
						codes[key{id, strings.TrimSuffix(r, "@example.test")}] = code.Code
					}
					mu.Unlock()
				}
			}(n.addr, ni, c)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	stopAll()

	total := 0
	for _, u := range users {
		files, tmp := scanMaildir(t, maildirOf(root, u))
		if tmp != 0 {
			t.Errorf("%s: %d files left in tmp/", u, tmp)
		}
		seen := map[string]int{}
		var bytes int64
		nodesSeen := map[string]bool{}
		for _, f := range files {
			if !f.ok {
				t.Errorf("%s: %s", f.path, f.why)
			}
			seen[f.id]++
			fi, _ := os.Stat(f.path)
			bytes += fi.Size()
			name := filepath.Base(f.path)
			nodesSeen[name[strings.LastIndexByte(name[:strings.Index(name, ",")], '.')+1:strings.Index(name, ",")]] = true
			if codes[key{f.id, u}] != 250 {
				t.Errorf("%s: %s stored but answered %d", u, f.id, codes[key{f.id, u}])
			}
		}
		for k, code := range codes {
			if k.user != u {
				continue
			}
			if code != 250 {
				t.Errorf("%s: %s answered %d", u, k.id, code)
			} else if seen[k.id] != 1 {
				t.Errorf("%s: %s answered 250 but stored %d times", u, k.id, seen[k.id])
			}
		}
		total += len(files)
		if len(nodesSeen) != 3 {
			t.Errorf("%s: copies from nodes %v, want all three", u, nodesSeen)
		}
		if !quota {
			continue
		}
		// maildirsize: appended by three processes at once, must add up
		b, err := os.ReadFile(filepath.Join(maildirOf(root, u), "maildirsize"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		var sb, sc int64
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) != 2 {
				t.Fatalf("%s: corrupt maildirsize line %q", u, l)
			}
			x, _ := strconv.ParseInt(f[0], 10, 64)
			y, _ := strconv.ParseInt(f[1], 10, 64)
			sb, sc = sb+x, sc+y
		}
		if lines[0] != "1000000000S" || sb != bytes || sc != int64(len(files)) {
			t.Errorf("%s: maildirsize %q says %d bytes %d msgs; folders hold %d bytes %d msgs", u, lines[0], sb, sc, bytes, len(files))
		}
	}
	if total < 3*clientsPerNode*msgsPerClient {
		t.Errorf("only %d copies stored", total)
	}
	t.Logf("%d copies in %d mailboxes from 3 nodes, all intact", total, len(users))
}
