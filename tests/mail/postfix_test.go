package mail

import (
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

	"github.com/emersion/go-smtp"

	"shoal/tests/testenv"
)

// postfixInstance is a private Postfix (its own config, queue and log in
// dir) that accepts SMTP for example.test on 127.0.0.1 and hands every
// message to one LMTP address.
type postfixInstance struct {
	dir, etc, smtpAddr string
}

// startPostfix starts it and registers its stop; the caller has checked for
// root and the postfix program.
func startPostfix(t *testing.T, lmtpAddr string) *postfixInstance {
	t.Helper()
	for _, name := range []string{"postfix"} {
		if _, err := user.Lookup(name); err != nil {
			t.Fatalf("user %s missing (it comes with the postfix package): %v", name, err)
		}
	}
	dir, err := os.MkdirTemp("", "shoal-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// the postfix daemons chdir into the queue as user postfix
	os.Chmod(dir, 0o755)
	p := &postfixInstance{dir: dir, etc: filepath.Join(dir, "etc"), smtpAddr: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
	for _, d := range []string{p.etc, filepath.Join(dir, "spool"), filepath.Join(dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "postfix:postfix", filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	mainCF := strings.Join([]string{
		"# private Postfix of a Shoal test: SMTP " + p.smtpAddr + " -> LMTP " + lmtpAddr,
		"compatibility_level = 3.6",
		"queue_directory = " + dir + "/spool",
		"data_directory = " + dir + "/data",
		"maillog_file = " + dir + "/maillog",
		"maillog_file_prefixes = " + dir,
		"syslog_name = postfix-shoal-test",
		"myhostname = mx.shoal.invalid",
		"mydomain = shoal.invalid",
		"myorigin = $myhostname",
		"mydestination =",
		"inet_interfaces = 127.0.0.1",
		"inet_protocols = ipv4",
		"mynetworks = 127.0.0.0/8",
		"alias_maps =",
		"alias_database =",
		"local_recipient_maps =",
		"biff = no",
		"smtpd_tls_security_level = none",
		"smtp_tls_security_level = none",
		"smtpd_relay_restrictions = reject_unauth_destination",
		// nothing ever leaves this machine: bounces to other domains fail here
		"default_transport = error:5.7.1 test instance delivers nowhere else",
		"relay_transport = error:5.7.1 test instance delivers nowhere else",
		"virtual_mailbox_domains = example.test",
		"virtual_mailbox_maps =",
		"virtual_transport = lmtp:inet:" + lmtpAddr,
		"lmtp_destination_concurrency_limit = 4",
		"lmtp_destination_recipient_limit = 50",
		"queue_run_delay = 1s",
		"minimal_backoff_time = 1s",
		"maximal_backoff_time = 2s",
		"",
	}, "\n")
	services := [][]string{
		{p.smtpAddr, "inet", "n", "-", "n", "-", "-", "smtpd"},
		{"pickup", "unix", "n", "-", "n", "60", "1", "pickup"},
		{"cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"},
		{"qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"},
		{"rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"},
		{"bounce", "unix", "-", "-", "n", "-", "0", "bounce"},
		{"defer", "unix", "-", "-", "n", "-", "0", "bounce"},
		{"trace", "unix", "-", "-", "n", "-", "0", "bounce"},
		{"verify", "unix", "-", "-", "n", "-", "1", "verify"},
		{"flush", "unix", "n", "-", "n", "1000?", "0", "flush"},
		{"proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"},
		{"smtp", "unix", "-", "-", "n", "-", "-", "smtp"},
		{"relay", "unix", "-", "-", "n", "-", "-", "smtp"},
		{"showq", "unix", "n", "-", "n", "-", "-", "showq"},
		{"error", "unix", "-", "-", "n", "-", "-", "error"},
		{"retry", "unix", "-", "-", "n", "-", "-", "error"},
		{"discard", "unix", "-", "-", "n", "-", "-", "discard"},
		{"lmtp", "unix", "-", "-", "n", "-", "-", "lmtp"},
		{"anvil", "unix", "-", "-", "n", "-", "1", "anvil"},
		{"scache", "unix", "-", "-", "n", "-", "1", "scache"},
		{"postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"},
	}
	var masterCF strings.Builder
	for _, s := range services {
		masterCF.WriteString(strings.Join(s, " ") + "\n")
	}
	os.WriteFile(filepath.Join(p.etc, "main.cf"), []byte(mainCF), 0o644)
	os.WriteFile(filepath.Join(p.etc, "master.cf"), []byte(masterCF.String()), 0o644)

	run := func(args ...string) {
		cmd := exec.Command("postfix", append([]string{"-c", p.etc}, args...)...)
		cmd.Dir = "/"
		if out, err := cmd.CombinedOutput(); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
			t.Fatalf("postfix %v: %v\n%s\nmaillog:\n%s", args, err, out, log)
		}
	}
	run("check")
	run("start")
	t.Cleanup(p.stop)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.Dial("tcp", p.smtpAddr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix does not listen on %s:\n%s", p.smtpAddr, p.maillog())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

func (p *postfixInstance) maillog() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "maillog"))
	return string(b)
}

// stop stops the master (by the PID in its own pid file) and waits.
func (p *postfixInstance) stop() {
	b, err := os.ReadFile(filepath.Join(p.dir, "spool", "pid", "master.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if !strings.Contains(string(env), "MAIL_CONFIG="+p.etc) {
		return // not ours (anymore)
	}
	proc, _ := os.FindProcess(pid)
	proc.Signal(os.Interrupt)
	exec.Command("postfix", "-c", p.etc, "stop").Run()
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	proc.Kill()
}

// TestPostfixRelaysToShoal: a real Postfix accepts SMTP and delivers over
// LMTP to a Shoal node: every message arrives intact in the right mailbox
// (and +detail folder), an unknown recipient is bounced with 5.1.1.
func TestPostfixRelaysToShoal(t *testing.T) {
	requireRoot(t, "Postfix runs its daemons as user postfix")
	testenv.Require(t, "postfix")
	root := t.TempDir()
	mkMaildirs(t, root, "ann", "bob")
	os.MkdirAll(filepath.Join(maildirOf(root, "bob"), ".Lists", "new"), 0o700)
	os.MkdirAll(filepath.Join(maildirOf(root, "bob"), ".Lists", "tmp"), 0o700)
	os.MkdirAll(filepath.Join(maildirOf(root, "bob"), ".Lists", "cur"), 0o700)
	n := startNode(t, root, "node1")
	pf := startPostfix(t, n.addr)
	defer func() {
		if t.Failed() {
			t.Logf("postfix maillog:\n%s", pf.maillog())
		}
	}()

	rng := rand.New(rand.NewPCG(7, 7))
	want := map[string][]string{} // mailbox dir -> test ids
	const msgs = 12
	for i := 0; i < msgs; i++ {
		m := newMessage(fmt.Sprintf("pf%d", i), 1000+rng.IntN(100000), rng)
		rcpts := []string{"ann@example.test"}
		want[maildirOf(root, "ann")] = append(want[maildirOf(root, "ann")], m.id)
		if i%3 == 0 {
			rcpts = append(rcpts, "bob+lists@example.test")
			want[filepath.Join(maildirOf(root, "bob"), ".Lists")] = append(want[filepath.Join(maildirOf(root, "bob"), ".Lists")], m.id)
		}
		if i == 5 {
			rcpts = append(rcpts, "nobody@example.test")
		}
		c, err := smtp.Dial(pf.smtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SendMail("sender@example.org", rcpts, strings.NewReader(string(m.wire))); err != nil {
			t.Fatalf("SMTP to postfix: %v", err)
		}
		c.Close()
	}
	// wait until Postfix has delivered everything
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := 0
		for dir := range want {
			files, _ := scanMaildir(t, dir)
			got += len(files)
		}
		total := 0
		for _, ids := range want {
			total += len(ids)
		}
		if got >= total && strings.Contains(pf.maillog(), "nobody@example.test") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s %d of %d copies delivered", got, total)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for dir, ids := range want {
		files, tmp := scanMaildir(t, dir)
		if tmp != 0 {
			t.Errorf("%s: %d files in tmp/", dir, tmp)
		}
		seen := map[string]int{}
		for _, f := range files {
			if !f.ok {
				t.Errorf("%s: %s", f.path, f.why)
			}
			seen[f.id]++
			b, _ := os.ReadFile(f.path)
			if !strings.HasPrefix(string(b), "Return-Path: <sender@example.org>\n") {
				t.Errorf("%s: Return-Path %q", f.path, strings.SplitN(string(b), "\n", 2)[0])
			}
		}
		for _, id := range ids {
			if seen[id] != 1 {
				t.Errorf("%s: %s stored %d times", dir, id, seen[id])
			}
		}
		if len(files) != len(ids) {
			t.Errorf("%s: %d files, want %d", dir, len(files), len(ids))
		}
	}
	log := pf.maillog()
	if !strings.Contains(log, "to=<nobody@example.test>") || !strings.Contains(log, "status=bounced") || !strings.Contains(log, "5.1.1") {
		t.Errorf("no 5.1.1 bounce for nobody@example.test in the maillog")
	}
	if c := strings.Count(log, "status=sent"); c < msgs {
		t.Errorf("maillog has %d status=sent lines, want >= %d", c, msgs)
	}
}
