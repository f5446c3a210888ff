package lockdb

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"
)

// Config configures one node of the cluster. noded decodes the [cluster]
// TOML section straight into it and copies the top-level node and state_dir
// keys. Start from DefaultConfig (or TestConfig) and override.
//
// With no Gossip and no Peers the node runs alone (single-node mode, noded
// -dev): the same code paths with a one-member node map; it still takes the
// recovery lock. Without RPC in that mode no socket is opened.
type Config struct {
	// Node is this node's unique name (top-level `node` key).
	Node string `toml:"node"`
	// StateDir is node-local (never on the shared filesystem); it holds the
	// bbolt file lockdb.db. Top-level `state_dir` key.
	StateDir string `toml:"state_dir"`
	// SharedDir is on the cluster filesystem: recovery lock, generation
	// record and (by default) the cluster key live here.
	SharedDir string `toml:"shared_dir"`
	// Gossip is the memberlist bind address host:port.
	Gossip string `toml:"gossip"`
	// RPC is the node-to-node RPC listen address host:port.
	RPC string `toml:"rpc"`
	// Peers are gossip addresses of other nodes to join.
	Peers []string `toml:"peers"`
	// KeyFile holds the cluster key; default <shared_dir>/cluster.key,
	// created with mode 0600 by the first node that starts.
	KeyFile string `toml:"key_file"`

	// FenceTimeout: a node that cannot reach a coordinator for longer calls
	// Owner.Fenced. Must exceed LeaseDuration.
	FenceTimeout time.Duration `toml:"fence_timeout"`
	// LeaseDuration is how long a coordinator's lease lets a node act as a
	// home after the renewal request was sent.
	LeaseDuration time.Duration `toml:"lease"`
	// HeartbeatInterval is how often a node renews its lease. Must be well
	// below LeaseDuration.
	HeartbeatInterval time.Duration `toml:"heartbeat"`
	// ReclockInterval is how often a node that is not the coordinator tries
	// the recovery lock (non-blocking).
	ReclockInterval time.Duration `toml:"reclock_interval"`
	// BreakTimeout bounds how long a home waits for an oplock/lease break
	// ack before it downgrades the holder itself (SMB: 35 s).
	BreakTimeout time.Duration `toml:"break_timeout"`
	// RPCTimeout bounds one node-to-node round trip that is not a waiting
	// request (freeze, reassert, renew, admin listings).
	RPCTimeout time.Duration `toml:"rpc_timeout"`
	// ClockMargin is added to every lease the coordinator waits out, to
	// cover clock-rate differences between nodes and how late a member's
	// renew loop may run (a scheduling stall): a member logs every round
	// later than the margin, and an error when its clients were dropped
	// later than the coordinator waits.
	ClockMargin time.Duration `toml:"clock_margin"`

	// MaxDelegations bounds the keys this node decides for their homes
	// (delegations, see doc.go); 0 disables delegations: every request
	// goes to the key's home.
	MaxDelegations int `toml:"max_delegations"`
	// DelegationHysteresis: a home does not delegate a key again for this
	// long after recalling it, so two nodes taking turns on one file do
	// not pass it back and forth.
	DelegationHysteresis time.Duration `toml:"delegation_hysteresis"`
	// DelegationIdle: a delegate gives a key back to its home after this
	// long without a request for it.
	DelegationIdle time.Duration `toml:"delegation_idle"`

	// Logger receives the cluster's logs; nil discards them.
	Logger *slog.Logger `toml:"-"`
	// Transport overrides the node-to-node transport (tests: an
	// InmemNetwork). Nil: TCP on RPC, or an in-process loopback in
	// single-node mode.
	Transport Transport `toml:"-"`
	// Membership overrides gossip (tests: an InmemNetwork). Nil:
	// memberlist on Gossip, or a one-member list in single-node mode.
	Membership Membership `toml:"-"`
	// Incarnation identifies this start of the node; 0 means "derive from
	// the wall clock". A restarted node must use a larger value.
	Incarnation uint64 `toml:"-"`
}

// DefaultConfig returns production defaults; Node, StateDir and SharedDir
// must still be set.
func DefaultConfig() Config {
	return Config{
		FenceTimeout:      10 * time.Second,
		LeaseDuration:     3 * time.Second,
		HeartbeatInterval: 500 * time.Millisecond,
		ReclockInterval:   200 * time.Millisecond,
		BreakTimeout:      35 * time.Second,
		RPCTimeout:        2 * time.Second,
		ClockMargin:       100 * time.Millisecond,

		MaxDelegations:       65536,
		DelegationHysteresis: time.Second,
		DelegationIdle:       time.Minute,
	}
}

// TestConfig returns DefaultConfig with short timeouts for tests.
func TestConfig(node, stateDir, sharedDir string) Config {
	c := DefaultConfig()
	c.Node = node
	c.StateDir = stateDir
	c.SharedDir = sharedDir
	c.FenceTimeout = 1500 * time.Millisecond
	c.LeaseDuration = 600 * time.Millisecond
	c.HeartbeatInterval = 100 * time.Millisecond
	c.ReclockInterval = 50 * time.Millisecond
	c.BreakTimeout = 2 * time.Second
	c.RPCTimeout = 300 * time.Millisecond
	c.ClockMargin = 20 * time.Millisecond
	return c
}

// Single reports whether the config describes a one-node cluster.
func (c *Config) Single() bool {
	return c.Gossip == "" && len(c.Peers) == 0 && c.Membership == nil
}

func (c *Config) keyFile() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	return filepath.Join(c.SharedDir, "cluster.key")
}

// Validate checks the configuration; every message names the TOML key.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("%w: cluster.%s: %s", ErrConfig, key, fmt.Sprintf(format, args...))
	}
	if c.Node == "" {
		return bad("node", "must be set (unique name of this node)")
	}
	if len(c.Node) > 255 {
		return bad("node", "longer than 255 bytes")
	}
	if c.StateDir == "" {
		return bad("state_dir", "must be set (node-local directory for the bbolt file)")
	}
	if c.SharedDir == "" {
		return bad("shared_dir", "must be set (directory on the cluster filesystem)")
	}
	if c.StateDir == c.SharedDir {
		return bad("state_dir", "must not be the shared directory %q", c.SharedDir)
	}
	for _, kv := range []struct{ key, addr string }{{"gossip", c.Gossip}, {"rpc", c.RPC}} {
		if kv.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(kv.addr); err != nil {
			return bad(kv.key, "%q is not host:port: %v", kv.addr, err)
		}
	}
	if c.Transport == nil && c.RPC == "" && !c.Single() {
		return bad("rpc", "must be set when gossip or peers are")
	}
	if c.Membership == nil && c.Gossip == "" && len(c.Peers) > 0 {
		return bad("gossip", "must be set when peers are")
	}
	for i, p := range c.Peers {
		if _, _, err := net.SplitHostPort(p); err != nil {
			return bad("peers", "entry %d %q is not host:port: %v", i, p, err)
		}
	}
	pos := []struct {
		key string
		d   time.Duration
	}{
		{"fence_timeout", c.FenceTimeout}, {"lease", c.LeaseDuration},
		{"heartbeat", c.HeartbeatInterval}, {"reclock_interval", c.ReclockInterval},
		{"break_timeout", c.BreakTimeout}, {"rpc_timeout", c.RPCTimeout},
	}
	for _, p := range pos {
		if p.d <= 0 {
			return bad(p.key, "must be a positive duration, got %v", p.d)
		}
	}
	if c.ClockMargin < 0 {
		return bad("clock_margin", "must not be negative")
	}
	if c.MaxDelegations < 0 {
		return bad("max_delegations", "must not be negative (0 disables delegations)")
	}
	if c.MaxDelegations > 0 && (c.DelegationHysteresis < 0 || c.DelegationIdle <= 0) {
		return bad("delegation_idle", "delegation_idle must be positive and delegation_hysteresis not negative, got %v and %v", c.DelegationIdle, c.DelegationHysteresis)
	}
	if c.HeartbeatInterval*2 > c.LeaseDuration {
		return bad("heartbeat", "%v must be at most half of lease (%v)", c.HeartbeatInterval, c.LeaseDuration)
	}
	if c.FenceTimeout <= c.LeaseDuration+2*c.RPCTimeout {
		return bad("fence_timeout", "%v must exceed lease + 2 × rpc_timeout (%v)", c.FenceTimeout, c.LeaseDuration+2*c.RPCTimeout)
	}
	return nil
}

func (c *Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}
