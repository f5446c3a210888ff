package smbnode

import (
	"fmt"
	"log/slog"
	"net"
	"strings"

	"shoal/smbnode/auth"
)

// Config is one node's SMB configuration. The [smb] section of shoal.toml
// decodes into it; Shares come from the [[share]] sections.
type Config struct {
	Listen     string `toml:"listen"`
	Signing    string `toml:"signing"`    // "required" (default) or "enabled"
	Encryption string `toml:"encryption"` // "off" (default), "desired" or "required"
	// ServerName is the NetBIOS name in NTLM target info and srvsvc.
	ServerName string `toml:"server_name"`
	Workgroup  string `toml:"workgroup"`
	// AllowGuest admits guest/anonymous logons. Off by default, as Windows
	// clients refuse insecure guest logons anyway.
	AllowGuest bool `toml:"allow_guest"`
	// MaxIOSize bounds READ, WRITE and TRANSACT sizes (MaxReadSize etc.).
	MaxIOSize uint32 `toml:"max_io_size"`
	// TortureHooks enables Samba's smbtorture-only FSCTLs (never in production).
	TortureHooks bool `toml:"torture_hooks"`

	Shares []ShareConfig `toml:"-"`
	// Users checks passwords; required.
	Users auth.Users `toml:"-"`
	// Locker decides share modes, byte-range locks and oplocks; nil means a
	// node-local table (a single node, -dev).
	Locker Locker `toml:"-"`
	// NotifyBus carries change notifications to and from the other nodes
	// (a *lockdb.Cluster); nil for a single node (notifyrelay.go).
	NotifyBus NotifyBus `toml:"-"`
	// Node names this node in open records.
	Node   string       `toml:"-"`
	Logger *slog.Logger `toml:"-"`
}

// ShareConfig is one [[share]] section.
type ShareConfig struct {
	Name       string   `toml:"name"`
	Path       string   `toml:"path"`
	Comment    string   `toml:"comment"`
	ReadOnly   bool     `toml:"read_only"`
	ValidUsers []string `toml:"valid_users"`
	// Encrypt requires SMB3 encryption on this share only.
	Encrypt bool `toml:"encrypt"`
}

// DefaultConfig returns the defaults: port 445 on every address, signing
// required, no encryption, 8 MiB I/O.
func DefaultConfig() Config {
	return Config{
		Listen:     "0.0.0.0:445",
		Signing:    "required",
		Encryption: "off",
		ServerName: "SHOAL",
		Workgroup:  "WORKGROUP",
		MaxIOSize:  8 << 20,
	}
}

// Validate reports the first problem, naming the shoal.toml key.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("smb.listen: %q is not host:port", c.Listen)
	}
	switch c.Signing {
	case "required", "enabled":
	default:
		return fmt.Errorf("smb.signing: %q must be \"required\" or \"enabled\"", c.Signing)
	}
	switch c.Encryption {
	case "off", "desired", "required":
	default:
		return fmt.Errorf("smb.encryption: %q must be \"off\", \"desired\" or \"required\"", c.Encryption)
	}
	if c.ServerName == "" || len(c.ServerName) > 15 || strings.ContainsAny(c.ServerName, `\/:*?"<>|. `) {
		return fmt.Errorf("smb.server_name: %q must be 1-15 characters without \\/:*?\"<>|. or space", c.ServerName)
	}
	if c.MaxIOSize < 64<<10 || c.MaxIOSize > 8<<20 {
		return fmt.Errorf("smb.max_io_size: %d must be between 65536 and 8388608", c.MaxIOSize)
	}
	seen := map[string]bool{}
	for i, s := range c.Shares {
		key := fmt.Sprintf("share[%d]", i)
		if s.Name == "" || len(s.Name) > 80 || strings.ContainsAny(s.Name, `\/:*?"<>|[]+=;,`) {
			return fmt.Errorf("%s.name: %q is not a valid share name", key, s.Name)
		}
		if strings.EqualFold(s.Name, "IPC$") {
			return fmt.Errorf("%s.name: IPC$ is built in", key)
		}
		if seen[strings.ToLower(s.Name)] {
			return fmt.Errorf("%s.name: share %q is defined twice", key, s.Name)
		}
		seen[strings.ToLower(s.Name)] = true
		if s.Path == "" || !strings.HasPrefix(s.Path, "/") {
			return fmt.Errorf("%s.path: %q must be an absolute path", key, s.Path)
		}
	}
	if c.Users == nil {
		return fmt.Errorf("smb: no user store configured")
	}
	return nil
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}
