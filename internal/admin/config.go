package admin

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
)

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// Node is this node's name, as peers and rows name it.
	Node string
	// Socket is the unix socket path ([admin] socket); required.
	Socket string
	// TCP is an optional host:port for the API over TCP ([admin] tcp);
	// every request there must carry Token. Peers use it to ask this node.
	TCP string
	// Token is the bearer token TCP requests must present and that this
	// node presents to its peers. Required when TCP or Peers is set.
	Token string
	// Peers are the other nodes' admin TCP listeners. A configured peer
	// that does not answer is an error row in every cluster-wide answer.
	Peers []Peer
	// Members, when set, names the nodes the cluster (lockdb) knows now.
	// A member that is not in Peers gets an error row in every
	// cluster-wide answer: it exists, but this node cannot ask it.
	Members func() []string
	// PeerTimeout bounds one request to a peer.
	PeerTimeout time.Duration
	// Local is this node; required.
	Local Node
	// Users is the user table; nil answers the users endpoints with
	// ErrUnsupported.
	Users UserTable
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with a 2 s peer timeout.
func DefaultConfig() Config {
	return Config{PeerTimeout: 2 * time.Second}
}

// Validate reports the first problem, naming the shoal.toml key.
func (c *Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if c.Node == "" {
		return bad("node: missing")
	}
	if c.Socket == "" || !strings.HasPrefix(c.Socket, "/") {
		return bad("admin.socket: %q must be an absolute path", c.Socket)
	}
	if len(c.Socket) > 107 {
		return bad("admin.socket: %q is longer than a unix socket path may be (107 bytes)", c.Socket)
	}
	if c.TCP != "" {
		if _, _, err := net.SplitHostPort(c.TCP); err != nil {
			return bad("admin.tcp: %q is not host:port", c.TCP)
		}
	}
	if (c.TCP != "" || len(c.Peers) > 0) && len(c.Token) < 16 {
		return bad("admin.token_file: a token of at least 16 characters is required with admin.tcp or admin.peers")
	}
	seen := map[string]bool{c.Node: true}
	for i, p := range c.Peers {
		if p.Name == "" || seen[p.Name] {
			return bad("admin.peers[%d].name: %q is empty or names a node twice", i, p.Name)
		}
		seen[p.Name] = true
		if _, _, err := net.SplitHostPort(p.Addr); err != nil {
			return bad("admin.peers[%d].addr: %q is not host:port", i, p.Addr)
		}
	}
	if c.PeerTimeout <= 0 {
		return bad("admin: peer timeout must be positive")
	}
	if c.Local == nil {
		return bad("admin: no local node")
	}
	return nil
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}
