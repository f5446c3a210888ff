package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"

	"shoal/tests/cluster"
)

// startSamba runs the anchors' samba/start.sh with work directory work on
// a free port; stop runs stop.sh for it.
func startSamba(ctx context.Context, anchors, work string) (*target, func(), error) {
	port, err := cluster.FreePort("127.0.0.1")
	if err != nil {
		return nil, nil, err
	}
	script := filepath.Join(anchors, "samba", "start.sh")
	out, err := exec.CommandContext(ctx, script, "-w", work, "-p", strconv.Itoa(port)).CombinedOutput()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v\n%s", script, err, out)
	}
	// "smbd pid N listening on ADDR:PORT, share 'S' = PATH, user U / P"
	m := regexp.MustCompile(`listening on ([0-9.]+:\d+), share '([^']+)' = .*, user (\S+) / (\S+)`).FindSubmatch(out)
	if m == nil {
		exec.Command(filepath.Join(anchors, "samba", "stop.sh"), work).Run()
		return nil, nil, fmt.Errorf("%s: unexpected output:\n%s", script, out)
	}
	addr := string(m[1])
	tg := &target{name: "samba-plain", addrA: addr, addrB: addr, share: string(m[2]), user: string(m[3]), pass: string(m[4])}
	stop := func() { exec.Command(filepath.Join(anchors, "samba", "stop.sh"), work).Run() }
	return tg, stop, nil
}
