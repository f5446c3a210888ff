package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigErrors: every bad shoal.toml gives one line naming the file and
// the key, and exit status 2.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	good := `node = "n1"
state_dir = "` + dir + `/state"
[smb]
listen = "127.0.0.1:0"
[[share]]
name = "data"
path = "` + dir + `"
[admin]
socket = "` + dir + `/noded.sock"
`
	cases := []struct{ name, toml, key string }{
		{"unknown key", good + "bogus = 1\n", "bogus"},
		{"unknown smb key", strings.Replace(good, "[smb]\n", "[smb]\nsignin = \"required\"\n", 1), "smb.signin"},
		{"bad signing", strings.Replace(good, "[smb]\n", "[smb]\nsigning = \"sometimes\"\n", 1), "smb.signing"},
		{"relative share path", strings.Replace(good, `path = "`+dir+`"`, `path = "data"`, 1), "share[0].path"},
		{"no node", strings.Replace(good, `node = "n1"`, ``, 1), "node"},
		{"relative state_dir", strings.Replace(good, `state_dir = "`+dir+`/state"`, `state_dir = "state"`, 1), "state_dir"},
		{"syntax", good + "[smb\n", "line"},
		{"bad lmtp", good + "[lmtp]\nlisten = \"127.0.0.1:0\"\nmail_root = \"mail\"\n", "lmtp.mail_root"},
		{"bad cluster", good + "[cluster]\nshared_dir = \"\"\n", "cluster"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".toml")
			if err := os.WriteFile(path, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"-config", path}, strings.NewReader(""), &stdout, &stderr)
			msg := strings.TrimRight(stderr.String(), "\n")
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, msg)
			}
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, path) || !strings.Contains(msg, tc.key) {
				t.Fatalf("want one line naming %s and %q, got %q", path, tc.key, msg)
			}
		})
	}
}
