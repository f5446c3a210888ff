package smb

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/tests/testenv"
)

// smbclientConfig is one way of running smbclient: a protocol ceiling (-m)
// and a protection level (--client-protection, Samba 4.15 and later; the old
// -e and --signing options are gone in 4.17).
type smbclientConfig struct {
	name       string
	maxProto   string // -m
	protection string // --client-protection: sign | encrypt
	dialect    string // the dialect smbclient must report at -d 5
	evidence   string // a line smbclient logs at -d 5 for each protected message
}

var smbclientConfigs = []smbclientConfig{
	{"SMB2-signed", "SMB2", "sign", "SMB2_10", "signed SMB2 message"},
	{"SMB3-signed", "SMB3", "sign", "SMB3_11", "signed SMB2 message"},
	{"SMB3-encrypted", "SMB3", "encrypt", "SMB3_11", "Encrypted SMB2 message"},
}

// smbclientRun runs smbclient with an empty smb.conf (so the machine's
// /etc/samba/smb.conf cannot change the outcome) and returns its combined
// output and error.
type smbclientRun struct {
	t    *testing.T
	n    *testenv.Node
	cfg  smbclientConfig
	conf string
}

func newSmbclient(t *testing.T, n *testenv.Node, cfg smbclientConfig) *smbclientRun {
	conf := filepath.Join(t.TempDir(), "smb.conf")
	if err := os.WriteFile(conf, []byte("[global]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &smbclientRun{t: t, n: n, cfg: cfg, conf: conf}
}

func (r *smbclientRun) args(user, pass string) []string {
	a := []string{"-s", r.conf, "-p", strconv.Itoa(r.n.Port), "-U", user + "%" + pass}
	if r.cfg.maxProto != "" {
		a = append(a, "-m", r.cfg.maxProto)
	}
	if r.cfg.protection != "" {
		a = append(a, "--client-protection="+r.cfg.protection)
	}
	return a
}

func (r *smbclientRun) exec(args ...string) (string, error) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "smbclient", args...)
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cmd runs smbclient's command string c on the share, and fails the test
// when smbclient reports an error.
func (r *smbclientRun) cmd(c string) string {
	r.t.Helper()
	args := append([]string{"//" + r.n.Host + "/" + r.n.Share}, r.args(r.n.User, r.n.Pass)...)
	out, err := r.exec(append(args, "-c", c)...)
	if err != nil || strings.Contains(out, "NT_STATUS_") {
		r.t.Fatalf("smbclient -c %q: %v\n%s", c, err, out)
	}
	return out
}

// lsEntry is one line of smbclient's ls output.
type lsEntry struct {
	attrs string
	size  int64
}

// smbclient prints "  %-30s%7.7s %8.0f  %s" (name, attributes, size, date).
var lsLine = regexp.MustCompile(`^  (.+?)\s+([A-Z]*)\s+(\d+)  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$`)

// ls lists dir (a share path, backslashes) and returns its entries by name,
// without . and ..
func (r *smbclientRun) ls(dir string) map[string]lsEntry {
	r.t.Helper()
	out := r.cmd(fmt.Sprintf(`ls "%s\*"`, dir))
	m := map[string]lsEntry{}
	for _, line := range strings.Split(out, "\n") {
		f := lsLine.FindStringSubmatch(strings.TrimRight(line, "\r"))
		if f == nil || f[1] == "." || f[1] == ".." {
			continue
		}
		size, _ := strconv.ParseInt(f[3], 10, 64)
		m[f[1]] = lsEntry{attrs: f[2], size: size}
	}
	return m
}

// TestSmbclient runs smbclient against the share with SMB2 and SMB3,
// signed and encrypted: ls, put, get (byte-identical), mkdir, rename, del,
// deltree, -L, and a wrong password.
func TestSmbclient(t *testing.T) {
	testenv.Require(t, "smbclient")
	n := testenv.Server(t)
	local := t.TempDir()
	src := filepath.Join(local, "src.bin")
	want := randomBytes(t, 3<<20+12345)
	if err := os.WriteFile(src, want, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range smbclientConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			r := newSmbclient(t, n, cfg)
			// The dialect and the protection really are what was asked for.
			args := append([]string{"//" + n.Host + "/" + n.Share, "-d", "5"}, r.args(n.User, n.Pass)...)
			out, err := r.exec(append(args, "-c", "ls")...)
			if err != nil {
				t.Fatalf("smbclient -c ls: %v\n%s", err, out)
			}
			if !strings.Contains(out, "negotiated dialect["+cfg.dialect+"]") {
				t.Errorf("dialect is not %s: %s", cfg.dialect, grepLines(out, "negotiated dialect"))
			}
			if !strings.Contains(out, cfg.evidence) {
				t.Errorf("smbclient never logged %q: messages not protected", cfg.evidence)
			}
			top := fmt.Sprintf("shoaltest-smbclient-%s-%d", cfg.name, time.Now().UnixNano())
			r.cmd(fmt.Sprintf(`mkdir "%s"`, top))
			t.Cleanup(func() {
				args := append([]string{"//" + n.Host + "/" + n.Share}, r.args(n.User, n.Pass)...)
				r.exec(append(args, "-c", fmt.Sprintf(`deltree "%s"`, top))...)
			})
			if e, ok := r.ls(".")[top]; !ok || !strings.Contains(e.attrs, "D") {
				t.Fatalf("mkdir %s: not listed as a directory (%+v, %v)", top, e, ok)
			}

			// put and get: byte-identical, the name with a space in it.
			r.cmd(fmt.Sprintf(`put "%s" "%s\my file.bin"`, src, top))
			if e, ok := r.ls(top)["my file.bin"]; !ok || e.size != int64(len(want)) {
				t.Errorf("ls after put: %+v (listed %v), want size %d", e, ok, len(want))
			}
			dst := filepath.Join(t.TempDir(), "dst.bin")
			r.cmd(fmt.Sprintf(`get "%s\my file.bin" "%s"`, top, dst))
			if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, want) {
				t.Errorf("get: %d bytes (%v), not identical to the %d put", len(got), err, len(want))
			}

			// rename, then del.
			r.cmd(fmt.Sprintf(`rename "%s\my file.bin" "%s\renamed.bin"`, top, top))
			ents := r.ls(top)
			if _, old := ents["my file.bin"]; old || ents["renamed.bin"].size != int64(len(want)) {
				t.Errorf("ls after rename: %v", ents)
			}
			r.cmd(fmt.Sprintf(`del "%s\renamed.bin"`, top))
			if ents := r.ls(top); len(ents) != 0 {
				t.Errorf("ls after del: %v, want empty", ents)
			}

			// deltree of a tree with files two levels down.
			tree := top + `\tree`
			r.cmd(fmt.Sprintf(`mkdir "%s"; mkdir "%s\a"; mkdir "%s\a\b"`, tree, tree, tree))
			r.cmd(fmt.Sprintf(`put "%s" "%s\a\b\x.bin"; put "%s" "%s\y.bin"`, src, tree, src, tree))
			if e := r.ls(tree + `\a\b`)["x.bin"]; e.size != int64(len(want)) {
				t.Errorf("file in nested dir: %+v", e)
			}
			r.cmd(fmt.Sprintf(`deltree "%s"`, tree))
			if ents := r.ls(top); len(ents) != 0 {
				t.Errorf("ls after deltree: %v, want empty", ents)
			}

			// -L lists the share through srvsvc on IPC$.
			out, err = r.exec(append([]string{"-L", "//" + n.Host}, r.args(n.User, n.Pass)...)...)
			if err != nil || !regexp.MustCompile(`(?m)^\s+`+regexp.QuoteMeta(n.Share)+`\s+Disk`).MatchString(out) {
				t.Errorf("smbclient -L: %v, share %q not listed as Disk:\n%s", err, n.Share, out)
			}

			// A wrong password.
			args = append([]string{"//" + n.Host + "/" + n.Share}, r.args(n.User, n.Pass+"x")...)
			out, err = r.exec(append(args, "-c", "ls")...)
			if err == nil || !strings.Contains(out, "NT_STATUS_LOGON_FAILURE") {
				t.Errorf("wrong password: %v, want NT_STATUS_LOGON_FAILURE:\n%s", err, out)
			}
		})
	}
}

// grepLines returns the lines of out that contain s.
func grepLines(out, s string) string {
	var m []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			m = append(m, strings.TrimSpace(l))
		}
	}
	return strings.Join(m, "; ")
}
