package maildirsvc

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // substring of the error; "" = valid
	}{
		{name: "defaults with root", mod: func(c *Config) {}},
		{name: "no root", mod: func(c *Config) { c.MailRoot = "" }, want: "lmtp.mail_root: must be set"},
		{name: "relative root", mod: func(c *Config) { c.MailRoot = "mail" }, want: "lmtp.mail_root: must be an absolute path"},
		{name: "template abs", mod: func(c *Config) { c.PathTemplate = "/{user}" }, want: "lmtp.path_template: must be relative"},
		{name: "template no user", mod: func(c *Config) { c.PathTemplate = "{domain}/Maildir" }, want: "lmtp.path_template: must contain {user}"},
		{name: "template dotdot", mod: func(c *Config) { c.PathTemplate = "../{user}" }, want: "lmtp.path_template: must not contain"},
		{name: "template unknown", mod: func(c *Config) { c.PathTemplate = "{host}/{user}" }, want: "lmtp.path_template: unknown placeholder"},
		{name: "size", mod: func(c *Config) { c.MaxMessageBytes = 0 }, want: "lmtp.max_message_size"},
		{name: "rcpts", mod: func(c *Config) { c.MaxRecipients = -1 }, want: "lmtp.max_recipients"},
		{name: "conns", mod: func(c *Config) { c.MaxConnections = 0 }, want: "lmtp.max_connections"},
		{name: "line", mod: func(c *Config) { c.MaxLineLength = 998 }, want: "lmtp.max_line_length"},
		{name: "quota", mod: func(c *Config) { c.QuotaBytes = -1 }, want: "lmtp.quota_bytes"},
		{name: "user quota", mod: func(c *Config) { c.UserQuota = map[string]Quota{"nobody": {}} }, want: "lmtp.user_quota"},
		{name: "tls half", mod: func(c *Config) { c.TLSCert = "/x.pem" }, want: "lmtp.tls_cert"},
		{name: "delim", mod: func(c *Config) { c.RecipientDelimiter = "@" }, want: "lmtp.recipient_delimiter"},
		{name: "listen", mod: func(c *Config) { c.Listen = "nonsense" }, want: "lmtp.listen"},
		{name: "file mode", mod: func(c *Config) { c.FileMode = 0o400 }, want: "lmtp.file_mode"},
	}
	for _, tc := range tests {
		c := DefaultConfig()
		c.MailRoot = "/srv/mail"
		tc.mod(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	c := DefaultConfig()
	c.MailRoot = "/srv/mail"
	c.UserQuota = map[string]Quota{"Big@Example.TEST": {Bytes: 5}}
	if err := c.Validate(); err != nil || c.Node == "" || c.Hostname == "" {
		t.Fatalf("%v node %q host %q", err, c.Node, c.Hostname)
	}
	if q := c.quotaFor("big@example.test"); q.Bytes != 5 {
		t.Errorf("user_quota key not normalised: %+v", c.UserQuota)
	}
}

// TestConfigTOML: the [lmtp] section of shoal.toml decodes onto DefaultConfig.
func TestConfigTOML(t *testing.T) {
	var doc struct {
		LMTP Config `toml:"lmtp"`
	}
	doc.LMTP = DefaultConfig()
	_, err := toml.Decode(`
[lmtp]
listen = "0.0.0.0:24"
mail_root = "/srv/cluster/mail"
path_template = "{domain}/{user}"
auto_create = true
max_message_size = 1000000
quota_bytes = 500000000
read_timeout = "30s"
[lmtp.user_quota."boss@example.test"]
bytes = 0
messages = 10
`, &doc)
	if err != nil {
		t.Fatal(err)
	}
	c := doc.LMTP
	if c.MailRoot != "/srv/cluster/mail" || !c.AutoCreate || c.MaxMessageBytes != 1000000 || c.QuotaBytes != 500000000 ||
		time.Duration(c.ReadTimeout) != 30*time.Second || c.UserQuota["boss@example.test"].Messages != 10 ||
		c.MaxRecipients != 100 || c.PathTemplate != "{domain}/{user}" {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}
