package maildirsvc

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunDeliver(t *testing.T) {
	cfg := testConfig(t)
	cfg.UserQuota = map[string]Quota{"Small@Example.Test": {Bytes: 10}}
	mbox := mkMaildir(t, cfg.MailRoot, "example.test/u/Maildir", ".Work")
	mkMaildir(t, cfg.MailRoot, "example.test/small/Maildir")
	tests := []struct {
		name  string
		rcpts []string
		msg   string
		cfg   func(*Config)
		code  int
		lines []string
	}{
		{name: "ok", rcpts: []string{"u@example.test", "u+work@example.test"}, msg: testMsg, code: ExitOK,
			lines: []string{"u@example.test: 250 2.0.0", "u+work@example.test: 250 2.0.0"}},
		{name: "unknown", rcpts: []string{"x@example.test"}, msg: testMsg, code: ExitNoUser, lines: []string{"550 5.1.1"}},
		{name: "bad", rcpts: []string{"../x@example.test"}, msg: testMsg, code: ExitNoUser, lines: []string{"550 5.1.3"}},
		{name: "quota", rcpts: []string{"small@example.test"}, msg: testMsg, code: ExitCantCreat, lines: []string{"552 5.2.2"}},
		{name: "too big", rcpts: []string{"u@example.test"}, msg: strings.Repeat("x", 200), code: ExitDataErr,
			cfg: func(c *Config) { c.MaxMessageBytes = 100 }},
		{name: "no rcpt", code: ExitUsage},
		{name: "bad config", rcpts: []string{"u@example.test"}, code: ExitConfig, cfg: func(c *Config) { c.MailRoot = "relative" }},
		{name: "temp beats perm", rcpts: []string{"x@example.test", "gone@example.test"}, msg: testMsg, code: ExitTempFail,
			cfg: func(c *Config) {
				g := mkMaildir(t, c.MailRoot, "example.test/gone/Maildir")
				os.RemoveAll(filepath.Join(g, "tmp"))
			}, lines: []string{"550 5.1.1", "451 4.3.0"}},
	}
	for _, tc := range tests {
		c := cfg
		if tc.cfg != nil {
			tc.cfg(&c)
		}
		var out bytes.Buffer
		code := RunDeliver(context.Background(), c, "s@example.org", tc.rcpts, strings.NewReader(tc.msg), &out)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d; output:\n%s", tc.name, code, tc.code, out.String())
		}
		for _, l := range tc.lines {
			if !strings.Contains(out.String(), l) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, l, out.String())
			}
		}
	}
	if n := len(newFiles(t, mbox)); n != 1 {
		t.Errorf("INBOX: %d messages", n)
	}
	if n := len(newFiles(t, filepath.Join(mbox, ".Work"))); n != 1 {
		t.Errorf(".Work: %d messages", n)
	}
	for _, b := range newFiles(t, mbox) {
		if b != "Return-Path: <s@example.org>\nDelivered-To: u@example.test\n"+testMsgLF {
			t.Errorf("stored %q", b)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if code := RunDeliver(ctx, cfg, "", []string{"u@example.test"}, strings.NewReader(testMsg), &out); code != ExitTempFail {
		t.Errorf("cancelled: exit %d: %s", code, out.String())
	}
}
