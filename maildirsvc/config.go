package maildirsvc

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Quota is a Maildir++ quota: the most bytes and messages a mailbox may hold.
// Zero means no limit for that dimension.
type Quota struct {
	Bytes    int64 `toml:"bytes"`
	Messages int64 `toml:"messages"`
}

// Config configures a Server and RunDeliver. noded decodes the [lmtp] section
// of shoal.toml straight into it, on top of DefaultConfig().
type Config struct {
	// Listen is the LMTP listener address (host:port). Serve takes any
	// listener; Listen is for the caller that opens it.
	Listen string `toml:"listen"`
	// MailRoot is the absolute directory holding every Maildir.
	MailRoot string `toml:"mail_root"`
	// PathTemplate maps a recipient to its Maildir, relative to MailRoot.
	// Placeholders: {domain}, {user} (local part without +detail), {address}
	// ({user}@{domain}). Default "{domain}/{user}/Maildir".
	PathTemplate string `toml:"path_template"`
	// AutoCreate creates a missing Maildir instead of answering 550 5.1.1.
	AutoCreate bool `toml:"auto_create"`
	// RecipientDelimiter separates user from detail (user+detail); "" turns
	// detail addressing off. Default "+".
	RecipientDelimiter string `toml:"recipient_delimiter"`
	// MaxMessageBytes is the SIZE limit (bytes on the wire). Default 50 MiB.
	MaxMessageBytes int64 `toml:"max_message_size"`
	// MaxRecipients per transaction. Default 100.
	MaxRecipients int `toml:"max_recipients"`
	// MaxConnections open at once; more are answered 421 4.3.2. Default 256.
	MaxConnections int `toml:"max_connections"`
	// MaxLineLength of a command or message line, in bytes. Default 16384.
	MaxLineLength int `toml:"max_line_length"`
	// QuotaBytes and QuotaMessages are the default Maildir++ quota of every
	// mailbox (0 = unlimited; with both 0 maildirsize is never touched).
	QuotaBytes    int64 `toml:"quota_bytes"`
	QuotaMessages int64 `toml:"quota_messages"`
	// UserQuota overrides the default for single mailboxes, keyed by the
	// normalised address "user@domain".
	UserQuota map[string]Quota `toml:"user_quota"`
	// TLSCert and TLSKey (PEM files) enable STARTTLS; both or neither.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// Hostname is announced in the greeting. Default: os.Hostname().
	Hostname string `toml:"hostname"`
	// ReadTimeout and WriteTimeout bound every command read and reply write.
	// Default 5 minutes each (RFC 5321 section 4.5.3.2).
	ReadTimeout  Duration `toml:"read_timeout"`
	WriteTimeout Duration `toml:"write_timeout"`
	// ShutdownTimeout bounds how long Close waits for deliveries in flight.
	// Default 60 s.
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
	// SpoolMemoryBytes of a message are kept in memory; the rest is spooled
	// to an unlinked file in SpoolDir (default os.TempDir()). Default 1 MiB.
	SpoolMemoryBytes int64  `toml:"spool_memory"`
	SpoolDir         string `toml:"spool_dir"`
	// FileMode and DirMode of created messages and Maildir directories.
	// Defaults 0600 and 0700.
	FileMode os.FileMode `toml:"file_mode"`
	DirMode  os.FileMode `toml:"dir_mode"`

	// Node is this node's name (the top-level `node` key); it goes into
	// every unique file name. Default: the hostname.
	Node string `toml:"-"`
	// Logger receives delivery and connection logs; nil discards them.
	Logger *slog.Logger `toml:"-"`
}

// Duration is a time.Duration that decodes from TOML strings like "30s".
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// DefaultConfig returns the defaults documented on each Config field.
// MailRoot has no default and must be set.
func DefaultConfig() Config {
	return Config{
		Listen:             "127.0.0.1:24",
		PathTemplate:       "{domain}/{user}/Maildir",
		RecipientDelimiter: "+",
		MaxMessageBytes:    50 << 20,
		MaxRecipients:      100,
		MaxConnections:     256,
		MaxLineLength:      16384,
		ReadTimeout:        Duration(5 * time.Minute),
		WriteTimeout:       Duration(5 * time.Minute),
		ShutdownTimeout:    Duration(60 * time.Second),
		SpoolMemoryBytes:   1 << 20,
		FileMode:           0o600,
		DirMode:            0o700,
	}
}

// Validate checks every field and fills in the host-dependent defaults
// (Hostname, Node). Errors name the key, e.g.
// "lmtp.mail_root: must be an absolute path".
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("lmtp.%s: %s", key, fmt.Sprintf(format, a...)))
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			bad("listen", "must be host:port (%v)", err)
		}
	}
	switch {
	case c.MailRoot == "":
		bad("mail_root", "must be set")
	case !filepath.IsAbs(c.MailRoot):
		bad("mail_root", "must be an absolute path")
	}
	if err := checkTemplate(c.PathTemplate); err != nil {
		bad("path_template", "%v", err)
	}
	if len(c.RecipientDelimiter) > 1 || strings.ContainsAny(c.RecipientDelimiter, "@/\\.\" \x00") {
		bad("recipient_delimiter", "must be one character other than @ / \\ . \" and space, or empty")
	}
	if c.MaxMessageBytes <= 0 {
		bad("max_message_size", "must be > 0")
	}
	if c.MaxRecipients <= 0 {
		bad("max_recipients", "must be > 0")
	}
	if c.MaxConnections <= 0 {
		bad("max_connections", "must be > 0")
	}
	if c.MaxLineLength < 1000 {
		bad("max_line_length", "must be >= 1000 (RFC 5321 section 4.5.3.1.6)")
	}
	if c.QuotaBytes < 0 {
		bad("quota_bytes", "must be >= 0")
	}
	if c.QuotaMessages < 0 {
		bad("quota_messages", "must be >= 0")
	}
	norm := make(map[string]Quota, len(c.UserQuota))
	for addr, q := range c.UserQuota {
		a, err := ParseAddress(addr, "")
		if err != nil {
			bad("user_quota", "%q is not a plain user@domain address", addr)
			continue
		}
		if q.Bytes < 0 || q.Messages < 0 {
			bad("user_quota", "%q: limits must be >= 0", addr)
		}
		norm[a.String()] = q
	}
	if c.UserQuota != nil {
		c.UserQuota = norm // keys normalised like recipients (lower case)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls_cert", "tls_cert and tls_key must be set together")
	}
	if c.ReadTimeout <= 0 {
		bad("read_timeout", "must be > 0")
	}
	if c.WriteTimeout <= 0 {
		bad("write_timeout", "must be > 0")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout", "must be > 0")
	}
	if c.SpoolMemoryBytes < 0 {
		bad("spool_memory", "must be >= 0")
	}
	if c.FileMode&^0o777 != 0 || c.FileMode&0o600 != 0o600 {
		bad("file_mode", "must be a permission mode including 0600")
	}
	if c.DirMode&^0o777 != 0 || c.DirMode&0o700 != 0o700 {
		bad("dir_mode", "must be a permission mode including 0700")
	}
	if c.Hostname == "" {
		c.Hostname, _ = os.Hostname()
		if c.Hostname == "" {
			c.Hostname = "localhost"
		}
	}
	if strings.ContainsAny(c.Hostname, " \r\n\t") {
		bad("hostname", "must not contain blanks")
	}
	if c.Node == "" {
		c.Node = c.Hostname
	}
	return errors.Join(errs...)
}

// checkTemplate accepts a relative path template naming each mailbox
// uniquely: it needs {user} or {address}.
func checkTemplate(t string) error {
	switch {
	case t == "":
		return errors.New("must be set")
	case filepath.IsAbs(t):
		return errors.New("must be relative to mail_root")
	case !strings.Contains(t, "{user}") && !strings.Contains(t, "{address}"):
		return errors.New("must contain {user} or {address}")
	}
	rest := strings.NewReplacer("{domain}", "", "{user}", "", "{address}", "").Replace(t)
	if strings.ContainsAny(rest, "{}") {
		return errors.New("unknown placeholder (want {domain}, {user}, {address})")
	}
	for _, el := range strings.Split(t, "/") {
		if el == ".." || el == "." {
			return errors.New("must not contain . or .. elements")
		}
	}
	return nil
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// quotaFor returns the quota of the mailbox of address user@domain.
func (c *Config) quotaFor(address string) Quota {
	if q, ok := c.UserQuota[address]; ok {
		return q
	}
	return Quota{Bytes: c.QuotaBytes, Messages: c.QuotaMessages}
}
