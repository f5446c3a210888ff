package lockdb

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestConfigDecodeAndValidate(t *testing.T) {
	src := `
node = "node1"
state_dir = "/var/lib/shoal"
shared_dir = "/srv/cluster/.shoal"
gossip = "10.0.0.1:7946"
rpc = "10.0.0.1:7947"
peers = ["10.0.0.2:7946", "10.0.0.3:7946"]
fence_timeout = "12s"
lease = "4s"
max_delegations = 100
delegation_idle = "30s"
`
	c := DefaultConfig()
	if _, err := toml.Decode(src, &c); err != nil {
		t.Fatal(err)
	}
	if c.FenceTimeout != 12*time.Second || c.LeaseDuration != 4*time.Second || len(c.Peers) != 2 || c.BreakTimeout != 35*time.Second ||
		c.MaxDelegations != 100 || c.DelegationIdle != 30*time.Second || c.DelegationHysteresis != time.Second {
		t.Fatalf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.keyFile() != "/srv/cluster/.shoal/cluster.key" {
		t.Fatalf("default key file %q", c.keyFile())
	}
}

func TestConfigValidateNamesKey(t *testing.T) {
	base := func() Config {
		c := TestConfig("n1", "/state", "/shared")
		c.Gossip, c.RPC, c.Peers = "127.0.0.1:1", "127.0.0.1:2", []string{"127.0.0.1:3"}
		return c
	}
	cases := []struct {
		key string
		mod func(*Config)
	}{
		{"cluster.node", func(c *Config) { c.Node = "" }},
		{"cluster.state_dir", func(c *Config) { c.StateDir = "" }},
		{"cluster.shared_dir", func(c *Config) { c.SharedDir = "" }},
		{"cluster.state_dir", func(c *Config) { c.StateDir = c.SharedDir }},
		{"cluster.rpc", func(c *Config) { c.RPC = "nonsense" }},
		{"cluster.rpc", func(c *Config) { c.RPC = "" }},
		{"cluster.gossip", func(c *Config) { c.Gossip = "x" }},
		{"cluster.gossip", func(c *Config) { c.Gossip = "" }},
		{"cluster.peers", func(c *Config) { c.Peers = []string{"nope"} }},
		{"cluster.lease", func(c *Config) { c.LeaseDuration = 0 }},
		{"cluster.heartbeat", func(c *Config) { c.HeartbeatInterval = c.LeaseDuration }},
		{"cluster.fence_timeout", func(c *Config) { c.FenceTimeout = c.LeaseDuration }},
		{"cluster.break_timeout", func(c *Config) { c.BreakTimeout = -1 }},
		{"cluster.max_delegations", func(c *Config) { c.MaxDelegations = -1 }},
		{"cluster.delegation_idle", func(c *Config) { c.DelegationIdle = 0 }},
		{"cluster.delegation_idle", func(c *Config) { c.DelegationHysteresis = -time.Second }},
		{"cluster.clock_margin", func(c *Config) { c.ClockMargin = -1 }},
	}
	for _, tc := range cases {
		c := base()
		tc.mod(&c)
		err := c.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.key+":") {
			t.Errorf("%s: got %v", tc.key, err)
		}
	}
	c := base()
	if err := c.Validate(); err != nil {
		t.Fatalf("base config: %v", err)
	}
	single := TestConfig("n1", "/state", "/shared")
	if err := single.Validate(); err != nil || !single.Single() {
		t.Fatalf("single-node config: %v single=%v", err, single.Single())
	}
}
