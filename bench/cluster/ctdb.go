package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ctdbNetns is the network namespace the anchors' CTDB cluster runs in
// (a private one, so that this benchmark never shares it).
const ctdbNetns = "shoalbench"

// measureCTDB brings the anchors' 3-node Samba+CTDB cluster up in its own
// namespace, runs this program inside the namespace in client mode against
// node 1 and node 2 (127.0.0.1:445, 127.0.0.2:445 there), and takes the
// cluster down again. Its runs follow the other servers' (they cannot be
// interleaved run by run without keeping the cluster up; it stays up for
// all of its runs).
func measureCTDB(ctx context.Context, cfg config, dir string) (*results, error) {
	work := filepath.Join(dir, "ctdb")
	up := exec.CommandContext(ctx, filepath.Join(cfg.anchors, "ctdb", "up.sh"), "-w", work, "-s", ctdbNetns, "3")
	out, err := up.CombinedOutput()
	defer func() {
		down := exec.Command(filepath.Join(cfg.anchors, "ctdb", "down.sh"), "-w", work)
		if b, err := down.CombinedOutput(); err != nil {
			fmt.Printf("ctdb down.sh: %v\n%s", err, b)
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("ctdb/up.sh: %v\n%s", err, lastLines(string(out), 15))
	}
	fmt.Printf("ctdb: %s\n", lastLines(string(out), 1))
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"netns", "exec", ctdbNetns, self, "-client", "127.0.0.1:445,127.0.0.2:445,ctdbbench,Bench-pw1",
		"-runs", fmt.Sprint(cfg.runs), "-dur", cfg.dur.String(), "-n", fmt.Sprint(cfg.n), "-nbreak", fmt.Sprint(cfg.nBreak), "-tests", cfg.tests}
	cmd := exec.CommandContext(ctx, "ip", args...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("client in netns %s: %v", ctdbNetns, err)
	}
	var r results
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("client output: %v\n%s", err, stdout.String())
	}
	return &r, nil
}

// clientMode measures the server named by -client and prints the results
// as JSON (progress goes to stderr).
func clientMode(cfg config) int {
	f := strings.Split(cfg.client, ",")
	if len(f) != 4 {
		fmt.Fprintln(os.Stderr, "-client wants ADDR_A,ADDR_B,USER,PASS")
		return 2
	}
	tg := &target{name: "samba-ctdb-3node", addrA: f[0], addrB: f[1], user: f[2], pass: f[3], share: "data"}
	res := newResults()
	ctx := context.Background()
	stdout := os.Stdout
	os.Stdout = os.Stderr // measure's progress lines
	for run := 0; run < cfg.runs; run++ {
		if err := measure(ctx, cfg, tg, run, res); err != nil {
			fmt.Fprintf(os.Stderr, "%s run %d: %v\n", tg.name, run, err)
			return 1
		}
	}
	json.NewEncoder(stdout).Encode(res)
	return 0
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
