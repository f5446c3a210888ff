package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"

	"shoal/internal/admin"
	"shoal/lockdb"
	"shoal/maildirsvc"
	"shoal/smbnode"
)

// fileConfig is shoal.toml (the contract in DESIGN.md).
type fileConfig struct {
	Node     string                `toml:"node"`
	StateDir string                `toml:"state_dir"`
	Cluster  toml.Primitive        `toml:"cluster"`
	SMB      smbnode.Config        `toml:"smb"`
	Shares   []smbnode.ShareConfig `toml:"share"`
	LMTP     maildirsvc.Config     `toml:"lmtp"`
	Admin    adminConfig           `toml:"admin"`
	Metrics  metricsConfig         `toml:"metrics"`

	meta toml.MetaData
	// lmtpSet reports whether the file has an [lmtp] section.
	lmtpSet bool
	// clusterSet reports a [cluster] section: the node joins a lockdb
	// cluster (without one it is a single node with a local lock table).
	clusterSet    bool
	ClusterConfig lockdb.Config `toml:"-"`
}

type adminConfig struct {
	Socket string `toml:"socket"`
	// TCP, TokenFile and Peers serve the admin API to other nodes; see
	// admin.go.
	TCP       string       `toml:"tcp"`
	TokenFile string       `toml:"token_file"`
	Peers     []admin.Peer `toml:"peers"`
}

type metricsConfig struct {
	Listen string `toml:"listen"`
}

// configError is one line naming the file, the key and the problem.
type configError struct {
	file, msg string
}

func (e *configError) Error() string { return e.file + ": " + e.msg }

// loadConfig reads and checks shoal.toml. Every problem is a *configError.
func loadConfig(path string) (*fileConfig, error) {
	cfg := &fileConfig{
		SMB:   smbnode.DefaultConfig(),
		LMTP:  maildirsvc.DefaultConfig(),
		Admin: adminConfig{Socket: "/run/shoal/noded.sock"},
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &configError{path, err.Error()}
	}
	meta, err := toml.Decode(string(data), cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &configError{path, fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)}
		}
		return nil, &configError{path, err.Error()}
	}
	cfg.meta = meta
	cfg.clusterSet = meta.IsDefined("cluster")
	if cfg.clusterSet {
		cfg.ClusterConfig = lockdb.DefaultConfig()
		if err := meta.PrimitiveDecode(cfg.Cluster, &cfg.ClusterConfig); err != nil {
			return nil, &configError{path, "cluster: " + err.Error()}
		}
	}
	for _, k := range meta.Undecoded() {
		return nil, &configError{path, fmt.Sprintf("%s: unknown key", k.String())}
	}
	cfg.lmtpSet = meta.IsDefined("lmtp")
	if cfg.Node == "" {
		return nil, &configError{path, "node: missing; every node needs a unique name"}
	}
	if strings.ContainsAny(cfg.Node, "/\\: \t") {
		return nil, &configError{path, fmt.Sprintf("node: %q must not contain / \\ : or spaces", cfg.Node)}
	}
	if cfg.StateDir == "" || !strings.HasPrefix(cfg.StateDir, "/") {
		return nil, &configError{path, fmt.Sprintf("state_dir: %q must be an absolute node-local directory", cfg.StateDir)}
	}
	cfg.SMB.Shares = cfg.Shares
	if err := validateSMB(&cfg.SMB); err != nil {
		return nil, &configError{path, err.Error()}
	}
	if cfg.lmtpSet {
		cfg.LMTP.Node = cfg.Node
		if err := cfg.LMTP.Validate(); err != nil {
			return nil, &configError{path, err.Error()}
		}
	}
	if cfg.clusterSet {
		cfg.ClusterConfig.Node = cfg.Node
		cfg.ClusterConfig.StateDir = cfg.StateDir
		if err := cfg.ClusterConfig.Validate(); err != nil {
			return nil, &configError{path, err.Error()}
		}
	}
	if cfg.Admin.Socket == "" || !strings.HasPrefix(cfg.Admin.Socket, "/") {
		return nil, &configError{path, fmt.Sprintf("admin.socket: %q must be an absolute path", cfg.Admin.Socket)}
	}
	return cfg, nil
}

// validateSMB runs smbnode's checks that do not need the user store.
func validateSMB(c *smbnode.Config) error {
	probe := *c
	probe.Users = noUsers{}
	return probe.Validate()
}

type noUsers struct{}

func (noUsers) NTHash(string) ([16]byte, bool) { return [16]byte{}, false }
