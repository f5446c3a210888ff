package mail

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"shoal/tests/testenv"
)

// dovecotIMAP is a private Dovecot serving IMAP (only) on the Maildirs under
// a mail root laid out by Shoal's default template {domain}/{user}/Maildir.
type dovecotIMAP struct {
	dir, conf, addr string
}

func startDovecotIMAP(t *testing.T, mailRoot, mailUser string) *dovecotIMAP {
	t.Helper()
	dir, err := os.MkdirTemp("", "shoal-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // dovenull must reach run/login
	u, err := user.Lookup(mailUser)
	if err != nil {
		t.Fatal(err)
	}
	d := &dovecotIMAP{dir: dir, conf: filepath.Join(dir, "dovecot.conf"), addr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	host, port, _ := net.SplitHostPort(d.addr)
	for _, sub := range []string{"run", "state", "log"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
	}
	conf := `# private Dovecot of a Shoal test: IMAP on ` + d.addr + ` over ` + mailRoot + `
base_dir = ` + dir + `/run
state_dir = ` + dir + `/state
instance_name = shoal-test-` + filepath.Base(dir) + `
log_path = ` + dir + `/log/dovecot.log
info_log_path = ` + dir + `/log/dovecot-info.log
protocols = imap
listen = ` + host + `
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = ` + u.Uid + `
last_valid_uid = ` + u.Uid + `
mail_location = maildir:` + mailRoot + `/%d/%n/Maildir
mail_uid = ` + mailUser + `
mail_gid = ` + mailUser + `
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=` + mailUser + ` gid=` + mailUser + ` home=` + mailRoot + `/%d/%n
}
service imap-login {
  inet_listener imap {
    address = ` + host + `
    port = ` + port + `
  }
  inet_listener imaps {
    port = 0
  }
}
`
	if err := os.WriteFile(d.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// the master daemonizes; its output goes to a file, never a pipe that
	// the daemon would keep open
	out, err := os.Create(filepath.Join(dir, "log", "start.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dovecot", "-c", d.conf)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	out.Close()
	if err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("dovecot: %v\n%s\n%s", err, b, d.log())
	}
	t.Cleanup(d.stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.Dial("tcp", d.addr); err == nil {
			c.Close()
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot does not listen on %s:\n%s", d.addr, d.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *dovecotIMAP) log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "log", "dovecot.log"))
	return string(b)
}

// stop signals only the master whose command line names our config.
func (d *dovecotIMAP) stop() {
	b, err := os.ReadFile(filepath.Join(d.dir, "run", "master.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !bytes.Contains(cl, []byte(d.conf)) {
		return
	}
	proc, _ := os.FindProcess(pid)
	proc.Signal(os.Interrupt)
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	proc.Kill()
}

// TestDovecotReadsShoalMaildirs: messages delivered by Shoal (INBOX and a
// +detail folder) are read back by a real Dovecot over IMAP byte for byte:
// Dovecot returns the stored LF file with CRLF, which must equal the wire
// message with Shoal's two trace headers in front, and RFC822.SIZE must agree.
func TestDovecotReadsShoalMaildirs(t *testing.T) {
	requireRoot(t, "Dovecot switches to the mail user")
	testenv.Require(t, "doveadm") // dovecot-core; the IMAP server is dovecot-imapd:
	if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
		msg := "Dovecot's IMAP server /usr/lib/dovecot/imap is missing; install it with: apt-get install dovecot-imapd"
		if testenv.InCI() {
			t.Fatalf("%s (CI=true: a missing program is a failure)", msg)
		}
		t.Skipf("*** SKIPPED: %s (with CI=true this is a failure) ***", msg)
	}
	const mailUser = "vmail"
	if _, err := user.Lookup(mailUser); err != nil {
		if out, err := exec.Command("useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", mailUser).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v %s", mailUser, err, out)
		}
	}
	base, err := os.MkdirTemp("", "shoal-mailroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	root := filepath.Join(base, "mail")
	os.Mkdir(root, 0o755)
	mkMaildirs(t, root, "carol")
	for _, sub := range []string{"tmp", "new", "cur"} {
		os.MkdirAll(filepath.Join(maildirOf(root, "carol"), ".Lists", sub), 0o700)
	}
	n := startNode(t, root, "node1", "-auto-create")

	rng := rand.New(rand.NewPCG(3, 4))
	type sent struct {
		m       testMessage
		rcpt    string
		mailbox string
	}
	var all []sent
	for i := 0; i < 8; i++ {
		m := newMessage(fmt.Sprintf("dc%d", i), 100+rng.IntN(80000), rng)
		rcpt, mbox := "carol@example.test", "INBOX"
		switch i % 4 {
		case 1:
			rcpt, mbox = "Carol+Lists@Example.Test", "Lists"
		case 2:
			rcpt = "dave@example.test" // auto-created mailbox
		}
		codes, err := sendLMTP(n.addr, "sender@example.org", []string{rcpt}, m)
		if err != nil || codes[rcpt].Code != 250 {
			t.Fatalf("LMTP %s: %v %v", rcpt, codes, err)
		}
		all = append(all, sent{m, rcpt, mbox})
	}
	if out, err := exec.Command("chown", "-R", mailUser+":"+mailUser, root).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	d := startDovecotIMAP(t, root, mailUser)
	defer func() {
		if t.Failed() {
			t.Logf("dovecot log:\n%s", d.log())
		}
	}()

	for _, login := range []string{"carol@example.test", "dave@example.test"} {
		c, err := imapclient.DialInsecure(d.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(login, "secret").Wait(); err != nil {
			t.Fatalf("LOGIN %s: %v", login, err)
		}
		for _, mbox := range []string{"INBOX", "Lists"} {
			var want []sent
			for _, s := range all {
				owner := strings.ToLower(s.rcpt)
				owner = owner[:strings.IndexAny(owner, "+@")]
				if owner+"@example.test" == login && s.mailbox == mbox {
					want = append(want, s)
				}
			}
			if login == "dave@example.test" && mbox == "Lists" {
				continue
			}
			sel, err := c.Select(mbox, nil).Wait()
			if err != nil {
				t.Fatalf("%s SELECT %s: %v", login, mbox, err)
			}
			if int(sel.NumMessages) != len(want) {
				t.Fatalf("%s %s: %d messages, want %d", login, mbox, sel.NumMessages, len(want))
			}
			if len(want) == 0 {
				continue
			}
			section := &imap.FetchItemBodySection{Peek: true}
			msgs, err := c.Fetch(imap.SeqSetNum(seqRange(len(want))...), &imap.FetchOptions{
				BodySection: []*imap.FetchItemBodySection{section}, RFC822Size: true,
			}).Collect()
			if err != nil {
				t.Fatalf("FETCH: %v", err)
			}
			byID := map[string][]byte{}
			sizes := map[string]int64{}
			for _, m := range msgs {
				b := m.FindBodySection(section)
				id := headerValue(b, "X-Test-ID")
				byID[id] = b
				sizes[id] = m.RFC822Size
			}
			for _, s := range want {
				addr := strings.ToLower(s.rcpt)
				if i := strings.IndexByte(addr, '+'); i >= 0 {
					addr = addr[:i] + addr[strings.IndexByte(addr, '@'):]
				}
				exp := append([]byte("Return-Path: <sender@example.org>\r\nDelivered-To: "+addr+"\r\n"), s.m.wire...)
				got := byID[s.m.id]
				if !bytes.Equal(got, exp) {
					t.Errorf("%s %s %s: IMAP returned %d bytes, want %d identical bytes", login, mbox, s.m.id, len(got), len(exp))
				}
				if sizes[s.m.id] != int64(len(exp)) {
					t.Errorf("%s %s: RFC822.SIZE %d, want %d", login, s.m.id, sizes[s.m.id], len(exp))
				}
			}
		}
		c.Logout().Wait()
	}
	if strings.Contains(d.log(), "Error") {
		t.Errorf("dovecot logged errors:\n%s", d.log())
	}
}

func seqRange(n int) []uint32 {
	var s []uint32
	for i := 1; i <= n; i++ {
		s = append(s, uint32(i))
	}
	return s
}

func headerValue(msg []byte, name string) string {
	hdr, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(hdr), "\r\n") {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			return v
		}
	}
	return ""
}
