package mail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"shoal/tests/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if lmtpnodeBuild.path != "" {
		os.RemoveAll(filepath.Dir(lmtpnodeBuild.path))
	}
	os.Exit(code)
}

var lmtpnodeBuild struct {
	once sync.Once
	path string
	err  error
}

// buildLMTPNode builds tests/mail/internal/lmtpnode once per test binary.
// Like every test of built binaries it is skipped with -short.
func buildLMTPNode(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping a test of built binaries")
	}
	lmtpnodeBuild.once.Do(func() {
		root, err := testenv.RepoRoot()
		if err != nil {
			lmtpnodeBuild.err = err
			return
		}
		dir, err := os.MkdirTemp("", "shoal-lmtpnode-")
		if err != nil {
			lmtpnodeBuild.err = err
			return
		}
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		p := filepath.Join(dir, "lmtpnode")
		cmd := exec.Command(goTool, "build", "-o", p, "./tests/mail/internal/lmtpnode")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			lmtpnodeBuild.err = fmt.Errorf("go build lmtpnode: %v\n%s", err, out)
			return
		}
		lmtpnodeBuild.path = p
	})
	if lmtpnodeBuild.err != nil {
		t.Fatal(lmtpnodeBuild.err)
	}
	return lmtpnodeBuild.path
}

// node is one lmtpnode process.
type node struct {
	cmd  *exec.Cmd
	addr string
	out  *bytes.Buffer // stdout+stderr
	mu   sync.Mutex
	done chan struct{}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// startNode runs lmtpnode on a free port with the given mail root; the
// process is stopped (SIGTERM, then SIGKILL) at cleanup.
func startNode(t testing.TB, root, name string, extra ...string) *node {
	t.Helper()
	bin := buildLMTPNode(t)
	n := &node{out: new(bytes.Buffer), done: make(chan struct{})}
	args := append([]string{"-root", root, "-addr", "127.0.0.1:0", "-node", name}, extra...)
	n.cmd = exec.Command(bin, args...)
	pr, pw := io.Pipe()
	n.cmd.Stdout = pw
	n.cmd.Stderr = lockedWriter{&n.mu, n.out}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		n.cmd.Wait()
		pw.Close()
		close(n.done)
	}()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l := sc.Text()
			if a, ok := strings.CutPrefix(l, "LISTEN "); ok {
				addrc <- a
			}
			n.mu.Lock()
			n.out.WriteString(l + "\n")
			n.mu.Unlock()
		}
	}()
	select {
	case n.addr = <-addrc:
	case <-n.done:
		t.Fatalf("lmtpnode %s exited: %s", name, n.output())
	case <-time.After(20 * time.Second):
		n.cmd.Process.Kill()
		t.Fatalf("lmtpnode %s did not start: %s", name, n.output())
	}
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("lmtpnode %s output:\n%s", name, n.output())
		}
	})
	return n
}

func (n *node) output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.out.String()
}

// stop sends SIGTERM and waits (SIGKILL after 10 s).
func (n *node) stop() {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (n *node) kill() {
	n.cmd.Process.Kill()
	<-n.done
}

// testMessage is one generated message: its wire form (CRLF) and the
// SHA-256 of its body with LF line endings, which X-Body-SHA256 carries.
type testMessage struct {
	id   string
	wire []byte
	sum  string
}

// newMessage makes a message of about size bytes whose body contains what
// trips up Maildir writers: lines starting with dots and "From ", empty lines,
// trailing blanks, 8-bit text, a lone "." line.
func newMessage(id string, size int, rng *rand.Rand) testMessage {
	var body bytes.Buffer
	fixed := []string{".", "..leading dots", "From the start", "", "trailing blanks   ", "8-bit: grüße, ﾃｽﾄ", "\tindented"}
	for i := 0; body.Len() < size; i++ {
		if i%7 == 3 {
			body.WriteString(fixed[rng.IntN(len(fixed))])
		} else {
			n := 10 + rng.IntN(70)
			for j := 0; j < n; j++ {
				body.WriteByte(byte('!' + rng.IntN(94)))
			}
		}
		body.WriteString("\n")
	}
	sum := sha256.Sum256(body.Bytes())
	hdr := fmt.Sprintf("From: sender@example.org\nTo: rcpt@example.test\nSubject: test %s\nMessage-ID: <%s@shoal.test>\nX-Test-ID: %s\nX-Body-SHA256: %s\n\n",
		id, id, id, hex.EncodeToString(sum[:]))
	lf := append([]byte(hdr), body.Bytes()...)
	return testMessage{id: id, wire: bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n")), sum: hex.EncodeToString(sum[:])}
}

// lf returns the message as it must be stored (LF line endings), without
// the trace headers.
func (m testMessage) lf() []byte { return bytes.ReplaceAll(m.wire, []byte("\r\n"), []byte("\n")) }

// reply is the final answer for one recipient.
type reply struct {
	Code int
	Enh  smtp.EnhancedCode
}

// sendLMTP delivers m to rcpts in one LMTP transaction and returns the
// reply of every recipient (RCPT refusals included); a connection error
// leaves the recipients out of the map (their outcome is unknown).
func sendLMTP(addr, from string, rcpts []string, m testMessage) (map[string]reply, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("test.client"); err != nil {
		return nil, err
	}
	codes := map[string]reply{}
	if err := c.Mail(from, nil); err != nil {
		return nil, err
	}
	var ok []string
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) {
				codes[r] = reply{se.Code, se.EnhancedCode}
				continue
			}
			return codes, err
		}
		ok = append(ok, r)
	}
	if len(ok) == 0 {
		return codes, nil
	}
	w, err := c.Data()
	if err != nil {
		return codes, err
	}
	if _, err := w.Write(m.wire); err != nil {
		return codes, err
	}
	resp, err := w.CloseWithLMTPResponse()
	for r := range resp {
		codes[r] = reply{Code: 250}
	}
	var le smtp.LMTPDataError
	if errors.As(err, &le) {
		for r, e := range le {
			codes[r] = reply{e.Code, e.EnhancedCode}
		}
		err = nil
	}
	if err == nil {
		c.Quit()
	}
	return codes, err
}

// stored is one message file found in a Maildir.
type stored struct {
	path string
	id   string // X-Test-ID
	ok   bool   // trace headers present, body hash and S= tag match
	why  string
}

// scanMaildir reads every file in dir/new and dir/cur and checks it. It
// returns the files and the number of entries left in dir/tmp.
func scanMaildir(t testing.TB, dir string) ([]stored, int) {
	t.Helper()
	var out []stored
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			p := filepath.Join(dir, sub, e.Name())
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, checkStored(p, b))
		}
	}
	tmp, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return out, len(tmp)
}

func checkStored(p string, b []byte) stored {
	s := stored{path: p}
	hdr, body, found := bytes.Cut(b, []byte("\n\n"))
	if !found {
		s.why = "no header/body separator"
		return s
	}
	var sum string
	for _, l := range strings.Split(string(hdr), "\n") {
		if v, ok := strings.CutPrefix(l, "X-Test-ID: "); ok {
			s.id = v
		}
		if v, ok := strings.CutPrefix(l, "X-Body-SHA256: "); ok {
			sum = v
		}
	}
	got := sha256.Sum256(body)
	name := filepath.Base(p)
	switch {
	case !bytes.HasPrefix(b, []byte("Return-Path: <")) || !bytes.Contains(hdr, []byte("\nDelivered-To: ")):
		s.why = "trace headers missing"
	case bytes.Contains(b, []byte("\r\n")):
		s.why = "CRLF stored"
	case sum == "" || hex.EncodeToString(got[:]) != sum:
		s.why = "body hash mismatch (truncated or corrupt)"
	case !strings.Contains(name, fmt.Sprintf(",S=%d", len(b))):
		s.why = fmt.Sprintf("size tag does not match %d bytes", len(b))
	default:
		s.ok = true
	}
	return s
}

// requireRoot skips (or in CI fails) a test that needs root.
func requireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	msg := fmt.Sprintf("needs root (%s)", why)
	if testenv.InCI() {
		t.Fatalf("%s; CI=true: this is a failure", msg)
	}
	fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s ***\n\n", t.Name(), msg)
	t.Skipf("*** SKIPPED: %s (with CI=true this is a failure) ***", msg)
}

// mkMaildirs creates Maildirs root/example.test/<user>/Maildir.
func mkMaildirs(t testing.TB, root string, users ...string) {
	t.Helper()
	for _, u := range users {
		for _, sub := range []string{"tmp", "new", "cur"} {
			if err := os.MkdirAll(filepath.Join(root, "example.test", u, "Maildir", sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func maildirOf(root, user string) string {
	return filepath.Join(root, "example.test", user, "Maildir")
}
