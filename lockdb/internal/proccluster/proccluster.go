package proccluster

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Node is one running testnode process.
type Node struct {
	Name   string
	RPC    string
	Gossip string
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	lines  chan string
	errLog *os.File
}

// Cluster is a set of testnode processes.
type Cluster struct {
	Bin    string
	Dir    string
	Nodes  []*Node
	Stderr io.Writer // copy of every node's log, may be nil
	// Args are extra testnode flags (e.g. "-prod").
	Args []string
}

// FreePort returns a free TCP port on 127.0.0.1 (racy but good enough for
// tests: the port is released just before the process binds it).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start launches n nodes named node1..nodeN and waits until each printed
// "ready" (its first generation); node i>1 joins through node1's gossip.
func Start(bin, dir string, n int, args ...string) (*Cluster, error) {
	var lastErr error
	for try := 0; try < 4; try++ {
		c := &Cluster{Bin: bin, Dir: filepath.Join(dir, fmt.Sprintf("run%d", try)), Args: args}
		seen := map[int]bool{}
		port := func() (int, error) {
			for {
				p, err := FreePort()
				if err != nil || !seen[p] {
					seen[p] = true
					return p, err
				}
			}
		}
		for i := 1; i <= n; i++ {
			rp, err := port()
			if err != nil {
				return nil, err
			}
			gp, err := port()
			if err != nil {
				return nil, err
			}
			c.Nodes = append(c.Nodes, &Node{Name: fmt.Sprintf("node%d", i), RPC: fmt.Sprintf("127.0.0.1:%d", rp), Gossip: fmt.Sprintf("127.0.0.1:%d", gp)})
		}
		lastErr = nil
		for i := range c.Nodes {
			if err := c.launch(i); err != nil {
				c.Close()
				lastErr = err
				break
			}
		}
		if lastErr == nil {
			return c, nil
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			return nil, lastErr
		}
	}
	return nil, lastErr
}

func (c *Cluster) launch(i int) error {
	nd := c.Nodes[i]
	var peers []string
	for j, o := range c.Nodes {
		if j != i {
			peers = append(peers, o.Gossip)
		}
	}
	os.MkdirAll(c.Dir, 0o755)
	state := filepath.Join(c.Dir, nd.Name)
	shared := filepath.Join(c.Dir, "shared")
	os.MkdirAll(shared, 0o755)
	args := append([]string{"-name", nd.Name, "-state", state, "-shared", shared,
		"-gossip", nd.Gossip, "-rpc", nd.RPC, "-peers", strings.Join(peers, ",")}, c.Args...)
	cmd := exec.Command(c.Bin, args...)
	logf, err := os.OpenFile(filepath.Join(c.Dir, nd.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stderr = logf
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	nd.cmd, nd.in, nd.out, nd.errLog = cmd, in, bufio.NewReader(outp), logf
	nd.lines = make(chan string, 16)
	go func(r *bufio.Reader, ch chan string) {
		defer close(ch)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			ch <- strings.TrimSpace(l)
		}
	}(nd.out, nd.lines)
	line, err := nd.read(60 * time.Second)
	if err != nil {
		return fmt.Errorf("%s: %v (log %s)", nd.Name, err, logf.Name())
	}
	if line != "ready" {
		return fmt.Errorf("%s: started with %q (log %s)", nd.Name, line, logf.Name())
	}
	return nil
}

func (nd *Node) read(timeout time.Duration) (string, error) {
	select {
	case l, ok := <-nd.lines:
		if !ok {
			return "", fmt.Errorf("process exited")
		}
		return l, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("no answer in %v", timeout)
	}
}

// Do sends one command and returns the answer without its "ok " prefix;
// an "err ..." answer is an error.
func (nd *Node) Do(cmd string, timeout time.Duration) (string, error) {
	if _, err := fmt.Fprintln(nd.in, cmd); err != nil {
		return "", fmt.Errorf("%s: %s: %v", nd.Name, cmd, err)
	}
	l, err := nd.read(timeout)
	if err != nil {
		return "", fmt.Errorf("%s: %s: %v", nd.Name, cmd, err)
	}
	if l == "ok" {
		return "", nil
	}
	if strings.HasPrefix(l, "ok ") {
		return l[3:], nil
	}
	return "", fmt.Errorf("%s: %s: %s", nd.Name, cmd, l)
}

// Send writes a command without waiting for its answer; Answer reads it.
func (nd *Node) Send(cmd string) error {
	_, err := fmt.Fprintln(nd.in, cmd)
	return err
}

// Answer reads the answer to an earlier Send.
func (nd *Node) Answer(timeout time.Duration) (string, error) {
	l, err := nd.read(timeout)
	if err != nil {
		return "", err
	}
	if l == "ok" {
		return "", nil
	}
	if strings.HasPrefix(l, "ok ") {
		return l[3:], nil
	}
	return "", fmt.Errorf("%s", l)
}

// Kill sends SIGKILL (kill -9) and reaps the process.
func (nd *Node) Kill() error {
	if nd.cmd == nil || nd.cmd.Process == nil {
		return nil
	}
	err := nd.cmd.Process.Signal(syscall.SIGKILL)
	nd.cmd.Wait()
	nd.cmd = nil
	return err
}

// Alive reports whether the process was not killed.
func (nd *Node) Alive() bool { return nd.cmd != nil }

// Close stops every node still running (quit, then kill after 3 s).
func (c *Cluster) Close() {
	for _, nd := range c.Nodes {
		if nd.cmd == nil {
			continue
		}
		fmt.Fprintln(nd.in, "quit")
		done := make(chan struct{})
		go func(cmd *exec.Cmd) { cmd.Wait(); close(done) }(nd.cmd)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			nd.cmd.Process.Kill()
			<-done
		}
		nd.cmd = nil
		nd.errLog.Close()
	}
}

// Restart starts node i again (after Kill) with a new process.
func (c *Cluster) Restart(i int) error {
	if c.Nodes[i].cmd != nil {
		return fmt.Errorf("%s is running", c.Nodes[i].Name)
	}
	return c.launch(i)
}
