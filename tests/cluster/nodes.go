package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"shoal/internal/admin"
	"shoal/smbnode/auth"
)

// Config describes a cluster to start.
type Config struct {
	// Nodes is the number of noded processes (default 3).
	Nodes int
	// Dir holds everything: Dir/data (the share, shared by every node),
	// Dir/data/.shoal (recovery lock, cluster key), Dir/nK (state, config,
	// admin socket). Keep it short: unix socket paths are limited to 108
	// bytes.
	Dir string
	// Noded and Nodectl are the binaries to run.
	Noded, Nodectl string
	// Host is the loopback address every node listens on (default
	// 127.0.0.1); ports are free ones picked at Start. Hosts, when set,
	// gives each node its own address instead (node i on Hosts[i]).
	Host  string
	Hosts []string
	// SMBPort, when set, is every node's SMB port (with Hosts: clients
	// such as smbtorture's --unclist take one port for all servers). 0
	// picks a free port per node.
	SMBPort int
	// Signing is the [smb] signing setting ("" = noded's default).
	Signing string
	// TortureHooks answers smbtorture's private FSCTLs ([smb] torture_hooks).
	TortureHooks bool
	// Timings of the [cluster] section; zero values leave lockdb's defaults.
	FenceTimeout, Lease, Heartbeat, RPCTimeout time.Duration
	// Unclustered leaves out the [cluster] section: every node decides
	// alone, as separate Samba servers over one directory would. Only a
	// control for the tests (they must fail then); users come from
	// state_dir/users, written by Start from Users.
	Unclustered bool
	Users       map[string]string // user → password, for Unclustered
	// AdminPeers gives every node an admin TCP listener with a shared
	// token (Dir/admin-token) and lists the other nodes as [admin] peers,
	// so nodectl through any node answers for the whole cluster.
	AdminPeers bool
	// Output returns where node i's stdout and stderr go (nil = discard).
	Output func(i int) io.Writer
	// Netns, when set, names a network namespace (ip netns add) every
	// noded runs in, started as `ip netns exec NAME noded -config ...`
	// (ip execs noded, so Node.PID is noded's). Hosts and ports are then
	// the namespace's; the admin sockets still work from outside, but
	// the SMB listeners do not, so AddUser only adds the user and the
	// caller waits for logons from inside the namespace.
	Netns string
}

// TestTimings are the short lockdb timings of the tests: a killed node is
// noticed within a few seconds.
func (c *Config) TestTimings() {
	c.FenceTimeout, c.Lease, c.Heartbeat, c.RPCTimeout = 4*time.Second, time.Second, 200*time.Millisecond, time.Second
}

// Node is one running noded.
type Node struct {
	Index   int    // 0-based
	Name    string // "n1", "n2", ...
	SMBAddr string // host:port of its SMB listener
	Socket  string // its admin socket
	// AdminAddr is its admin TCP listener (Config.AdminPeers only).
	AdminAddr string
	PID       int

	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid once done is closed
}

// Cluster is a set of running nodes over one share directory.
type Cluster struct {
	Nodes   []*Node
	DataDir string // the share's directory
	nodectl string
	// unclustered: users come from Config.Users, AddUser only waits.
	unclustered bool
	// netns: the nodes' network namespace (Config.Netns), or "".
	netns string
}

// Start writes one config per node and starts the nodes, returning once
// every admin socket answers (AddUser then waits for the cluster to form).
// On error the nodes already started are stopped.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Nodes == 0 {
		cfg.Nodes = 3
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	c := &Cluster{DataDir: filepath.Join(cfg.Dir, "data"), nodectl: cfg.Nodectl, unclustered: cfg.Unclustered, netns: cfg.Netns}
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return nil, err
	}
	if len(cfg.Hosts) == 0 {
		for range cfg.Nodes {
			cfg.Hosts = append(cfg.Hosts, cfg.Host)
		}
	}
	if len(cfg.Hosts) != cfg.Nodes {
		return nil, fmt.Errorf("%w: %d hosts for %d nodes", ErrStart, len(cfg.Hosts), cfg.Nodes)
	}
	type addrs struct{ smb, gossip, rpc, admin string }
	as := make([]addrs, cfg.Nodes)
	for i := range as {
		host := cfg.Hosts[i]
		var ps [4]int
		for k := range ps {
			p, err := FreePort(host)
			if err != nil {
				return nil, err
			}
			ps[k] = p
		}
		if cfg.SMBPort != 0 {
			ps[0] = cfg.SMBPort
		}
		as[i] = addrs{net.JoinHostPort(host, strconv.Itoa(ps[0])), net.JoinHostPort(host, strconv.Itoa(ps[1])),
			net.JoinHostPort(host, strconv.Itoa(ps[2])), net.JoinHostPort(host, strconv.Itoa(ps[3]))}
	}
	token := filepath.Join(cfg.Dir, "admin-token")
	if cfg.AdminPeers {
		if err := os.WriteFile(token, []byte("test-token-0123456789abcdef\n"), 0o600); err != nil {
			return nil, err
		}
	}
	for i := 0; i < cfg.Nodes; i++ {
		n := &Node{Index: i, Name: fmt.Sprintf("n%d", i+1), SMBAddr: as[i].smb}
		if cfg.AdminPeers {
			n.AdminAddr = as[i].admin
		}
		state := filepath.Join(cfg.Dir, n.Name)
		if err := os.MkdirAll(state, 0o700); err != nil {
			c.Stop()
			return nil, err
		}
		n.Socket = filepath.Join(state, "noded.sock")
		var peers []string
		for k, a := range as {
			if k != i {
				peers = append(peers, fmt.Sprintf("%q", a.gossip))
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "node = %q\nstate_dir = %q\n", n.Name, state)
		if cfg.Unclustered {
			var users strings.Builder
			for u, p := range cfg.Users {
				fmt.Fprintf(&users, "%s:%x\n", u, auth.NTHash(p))
			}
			if err := os.WriteFile(filepath.Join(state, "users"), []byte(users.String()), 0o600); err != nil {
				c.Stop()
				return nil, err
			}
		} else {
			fmt.Fprintf(&b, "\n[cluster]\nshared_dir = %q\ngossip = %q\nrpc = %q\npeers = [%s]\n",
				filepath.Join(c.DataDir, ".shoal"), as[i].gossip, as[i].rpc, strings.Join(peers, ", "))
		}
		for _, d := range []struct {
			key string
			v   time.Duration
		}{{"fence_timeout", cfg.FenceTimeout}, {"lease", cfg.Lease}, {"heartbeat", cfg.Heartbeat}, {"rpc_timeout", cfg.RPCTimeout}} {
			if d.v > 0 && !cfg.Unclustered {
				fmt.Fprintf(&b, "%s = %q\n", d.key, d.v.String())
			}
		}
		fmt.Fprintf(&b, "\n[smb]\nlisten = %q\n", n.SMBAddr)
		if cfg.Signing != "" {
			fmt.Fprintf(&b, "signing = %q\n", cfg.Signing)
		}
		if cfg.TortureHooks {
			b.WriteString("torture_hooks = true\n")
		}
		fmt.Fprintf(&b, "\n[[share]]\nname = \"data\"\npath = %q\n\n[admin]\nsocket = %q\n", c.DataDir, n.Socket)
		if cfg.AdminPeers {
			var ap []string
			for k, a := range as {
				if k != i {
					ap = append(ap, fmt.Sprintf("{name = \"n%d\", addr = %q}", k+1, a.admin))
				}
			}
			fmt.Fprintf(&b, "tcp = %q\ntoken_file = %q\npeers = [%s]\n", as[i].admin, token, strings.Join(ap, ", "))
		}
		conf := filepath.Join(state, "shoal.toml")
		if err := os.WriteFile(conf, []byte(b.String()), 0o600); err != nil {
			c.Stop()
			return nil, err
		}
		n.cmd = exec.Command(cfg.Noded, "-config", conf)
		if cfg.Netns != "" {
			n.cmd = exec.Command("ip", "netns", "exec", cfg.Netns, cfg.Noded, "-config", conf)
		}
		var out io.Writer = io.Discard
		if cfg.Output != nil {
			out = cfg.Output(i)
		}
		n.cmd.Stdout, n.cmd.Stderr = out, out
		n.cmd.WaitDelay = 5 * time.Second
		if err := n.cmd.Start(); err != nil {
			c.Stop()
			return nil, err
		}
		n.PID = n.cmd.Process.Pid
		n.done = make(chan struct{})
		go func() { n.err = n.cmd.Wait(); close(n.done) }()
		c.Nodes = append(c.Nodes, n)
	}
	for _, n := range c.Nodes {
		if err := n.waitSocket(ctx); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

func (n *Node) waitSocket(ctx context.Context) error {
	for {
		conn, err := net.Dial("unix", n.Socket)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("%w: %s exited: %v", ErrStart, n.Name, n.err)
		case <-ctx.Done():
			return fmt.Errorf("%w: %s: admin socket %s: %v", ErrStart, n.Name, n.Socket, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Nodectl runs nodectl against node i's socket with stdin and returns its
// combined output and exit status.
func (c *Cluster) Nodectl(ctx context.Context, i int, stdin string, args ...string) (string, int, error) {
	cmd := exec.CommandContext(ctx, c.nodectl, append([]string{"-socket", c.Nodes[i].Socket}, args...)...)
	var out bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode(), nil
	}
	return out.String(), 0, err
}

// AddUser adds user through the first live node (retrying while the
// cluster is still forming) and waits until it can log on to every live
// node. Unclustered, the user must be in Config.Users; it only waits.
// With Config.Netns it does not wait for logons (see there).
func (c *Cluster) AddUser(ctx context.Context, user, pass string) error {
	var last string
	for added := c.unclustered; !added; {
		for _, n := range c.Nodes {
			if n.Exited() {
				continue
			}
			out, code, err := c.Nodectl(ctx, n.Index, pass+"\n", "users", "add", user)
			if err != nil {
				return err
			}
			if code == 0 {
				added = true
				break
			}
			last = strings.TrimSpace(out)
		}
		if !added {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: users add %s: %s", ErrStart, user, last)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	if c.netns != "" {
		return nil
	}
	for _, n := range c.Nodes {
		if n.Exited() {
			continue
		}
		for {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			cl, err := Dial(dctx, n.SMBAddr, user, pass, "data")
			cancel()
			if err == nil {
				cl.Close()
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: %s cannot log on to %s: %v", ErrStart, user, n.Name, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// Coordinator waits until every live node reports (in its own row of
// nodectl status --json through its own socket) the same generation and
// coordinator, and returns the coordinator's name.
func (c *Cluster) Coordinator(ctx context.Context) (string, error) {
	var last string
	for {
		var rows []admin.NodeStatus
		for _, n := range c.Nodes {
			if n.Exited() {
				continue
			}
			out, _, err := c.Nodectl(ctx, n.Index, "", "status", "--json")
			if err != nil {
				return "", err
			}
			var st []admin.NodeStatus
			json.Unmarshal([]byte(out), &st)
			for _, s := range st {
				if s.Node == n.Name {
					rows = append(rows, s)
				}
			}
			last = out
		}
		agreed := len(rows) > 0
		for _, s := range rows {
			if s.State != "healthy" || s.Generation == 0 || s.Generation != rows[0].Generation || s.Coordinator == "" || s.Coordinator != rows[0].Coordinator {
				agreed = false
			}
		}
		if agreed {
			return rows[0].Coordinator, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("cluster: no agreed coordinator; last status: %s", strings.TrimSpace(last))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Exited reports whether the node's process has ended.
func (n *Node) Exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// Kill sends SIGKILL to the node (by PID) and waits for it to end.
func (n *Node) Kill() {
	if !n.Exited() {
		n.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-n.done
}

// Stop sends SIGTERM (SIGKILL after 10 s) and waits. It returns an error
// when the node did not stop on SIGTERM.
func (n *Node) Stop() error {
	if n.Exited() {
		return nil
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		return nil
	case <-time.After(10 * time.Second):
		n.cmd.Process.Signal(syscall.SIGKILL)
		<-n.done
		return fmt.Errorf("cluster: %s (pid %d) did not stop on SIGTERM; killed", n.Name, n.PID)
	}
}

// Stop stops every node still running and returns the first error.
func (c *Cluster) Stop() error {
	var first error
	for _, n := range c.Nodes {
		if err := n.Stop(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// FreePortOn returns a TCP port that was free a moment ago on every one of
// hosts.
func FreePortOn(hosts ...string) (int, error) {
	for range 50 {
		p, err := FreePort(hosts[0])
		if err != nil {
			return 0, err
		}
		free := true
		for _, h := range hosts[1:] {
			l, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(p)))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: no port free on all of %v", ErrStart, hosts)
}

// FreePort returns a TCP port on host that was free a moment ago.
func FreePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
