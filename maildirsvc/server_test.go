package maildirsvc

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

const testMsg = "From: a@example.org\r\nTo: b@example.test\r\nSubject: hi\r\n\r\nline one\r\n.leading dot\r\nbare\rcr\r\n\r\n"
const testMsgLF = "From: a@example.org\nTo: b@example.test\nSubject: hi\n\nline one\n.leading dot\nbare\rcr\n\n"

// TestLMTPMixedRecipients: one transaction, one reply per recipient after the
// dot, each as the mapping, quota and detail rules say.
func TestLMTPMixedRecipients(t *testing.T) {
	cfg := testConfig(t)
	cfg.UserQuota = map[string]Quota{"full@example.test": {Messages: 1}}
	alice := mkMaildir(t, cfg.MailRoot, "example.test/alice/Maildir", ".Lists")
	full := mkMaildir(t, cfg.MailRoot, "example.test/full/Maildir")
	os.WriteFile(filepath.Join(full, "new", "1.x.y,S=3"), []byte("abc"), 0o600)
	srv, addr := startServer(t, cfg)
	c := dialLMTP(t, addr)

	if err := c.Mail("sender@example.org", nil); err != nil {
		t.Fatal(err)
	}
	rcptWant := []struct {
		rcpt string
		code int // at RCPT; 0 = accepted
		enh  smtp.EnhancedCode
	}{
		{"alice@example.test", 0, smtp.EnhancedCode{}},
		{"Alice+lists@EXAMPLE.test", 0, smtp.EnhancedCode{}},  // folder .Lists, case-insensitive
		{"alice+nosuch@example.test", 0, smtp.EnhancedCode{}}, // no folder: INBOX
		{`"alice"@example.test`, 0, smtp.EnhancedCode{}},      // same INBOX: one copy
		{"nobody@example.test", 550, smtp.EnhancedCode{5, 1, 1}},
		{`"../../etc"@example.test`, 550, smtp.EnhancedCode{5, 1, 3}},
		{"full@example.test", 552, smtp.EnhancedCode{5, 2, 2}},
	}
	for _, r := range rcptWant {
		err := c.Rcpt(r.rcpt, nil)
		var se *smtp.SMTPError
		switch {
		case r.code == 0 && err != nil:
			t.Errorf("RCPT %s: %v", r.rcpt, err)
		case r.code != 0 && (!errors.As(err, &se) || se.Code != r.code || se.EnhancedCode != r.enh):
			t.Errorf("RCPT %s: got %v, want %d %v", r.rcpt, err, r.code, r.enh)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, testMsg)
	if err := w.Close(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	inbox := newFiles(t, alice)
	lists := newFiles(t, filepath.Join(alice, ".Lists"))
	if len(inbox) != 1 || len(lists) != 1 {
		t.Fatalf("INBOX has %d, .Lists %d messages; want 1 and 1", len(inbox), len(lists))
	}
	want := "Return-Path: <sender@example.org>\nDelivered-To: alice@example.test\n" + testMsgLF
	nameRE := regexp.MustCompile(`^\d+\.M\d+P\d+Q\d+R[0-9a-f]+\.test\\057node\\0721,S=(\d+)$`)
	for name, body := range inbox {
		if body != want {
			t.Errorf("stored %q\nwant   %q", body, want)
		}
		m := nameRE.FindStringSubmatch(name)
		if m == nil || m[1] != fmt.Sprint(len(want)) {
			t.Errorf("file name %q: want unique name with node and S=%d", name, len(want))
		}
	}
	if n := countDir(t, filepath.Join(alice, "tmp")); n != 0 {
		t.Errorf("%d files left in tmp/", n)
	}
	st := srv.Stats()
	if st.Deliveries != 2 || st.Failures["unknown_recipient"] != 1 || st.Failures["bad_address"] != 1 || st.Failures["quota"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestLMTPPerRecipientData: a recipient whose mailbox breaks between RCPT and
// the dot gets its own 4xx reply while the others get 250.
func TestLMTPPerRecipientData(t *testing.T) {
	cfg := testConfig(t)
	good := mkMaildir(t, cfg.MailRoot, "example.test/good/Maildir")
	broken := mkMaildir(t, cfg.MailRoot, "example.test/broken/Maildir")
	_, addr := startServer(t, cfg)
	c := dialLMTP(t, addr)
	c.Mail("", nil)
	for _, r := range []string{"good@example.test", "broken@example.test"} {
		if err := c.Rcpt(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(filepath.Join(broken, "tmp")); err != nil {
		t.Fatal(err)
	}
	w, _ := c.Data()
	fmt.Fprint(w, testMsg)
	_, err := w.CloseWithLMTPResponse()
	var le smtp.LMTPDataError
	if !errors.As(err, &le) || len(le) != 1 || le["broken@example.test"] == nil || le["broken@example.test"].Code != 451 {
		t.Fatalf("got %v; want only broken@ answered 451", err)
	}
	if n := len(newFiles(t, good)); n != 1 {
		t.Errorf("good has %d messages", n)
	}
	if n := len(newFiles(t, broken)); n != 0 {
		t.Errorf("broken has %d messages in new/", n)
	}
	for name := range newFiles(t, good) {
		if !strings.Contains(name, ",S=") {
			t.Errorf("no size tag in %s", name)
		}
	}
	b, _ := os.ReadFile(filepath.Join(good, "new", firstKey(newFiles(t, good))))
	if !strings.HasPrefix(string(b), "Return-Path: <>\n") {
		t.Errorf("null sender: %q", b[:40])
	}
}

func firstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

// TestLMTPAutoCreate: with auto_create a new mailbox is made on delivery.
func TestLMTPAutoCreate(t *testing.T) {
	cfg := testConfig(t)
	cfg.AutoCreate = true
	cfg.PathTemplate = "{domain}/{user}/Maildir"
	_, addr := startServer(t, cfg)
	c := dialLMTP(t, addr)
	if err := c.SendMail("s@example.org", []string{"New.User+x@Example.Test"}, strings.NewReader(testMsg)); err != nil {
		t.Fatal(err)
	}
	mbox := filepath.Join(cfg.MailRoot, "example.test", "new.user", "Maildir")
	if n := len(newFiles(t, mbox)); n != 1 {
		t.Fatalf("%d messages in auto-created %s", n, mbox)
	}
	for _, sub := range []string{"tmp", "cur"} {
		if fi, err := os.Stat(filepath.Join(mbox, sub)); err != nil || !fi.IsDir() {
			t.Errorf("%s/ missing", sub)
		}
	}
}

// TestLMTPExtensionsAndLimits: LHLO advertises what the issue requires; SIZE,
// recipient and line limits are enforced.
func TestLMTPExtensionsAndLimits(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxMessageBytes = 2000
	cfg.MaxRecipients = 2
	cfg.MaxLineLength = 1000
	mkMaildir(t, cfg.MailRoot, "example.test/a/Maildir")
	_, addr := startServer(t, cfg)
	c := dialLMTP(t, addr)
	for _, ext := range []string{"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE"} {
		if ok, _ := c.Extension(ext); !ok {
			t.Errorf("LHLO lacks %s", ext)
		}
	}
	if _, p := c.Extension("SIZE"); p != "2000" {
		t.Errorf("SIZE %q, want 2000", p)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered without a certificate")
	}
	// SIZE declared too big
	err := c.Mail("s@example.org", &smtp.MailOptions{Size: 5000})
	if se := (*smtp.SMTPError)(nil); !errors.As(err, &se) || se.Code != 552 {
		t.Errorf("MAIL SIZE=5000: %v", err)
	}
	c.Reset()
	// recipients over the limit
	c.Mail("s@example.org", nil)
	c.Rcpt("a@example.test", nil)
	c.Rcpt("a+x@example.test", nil)
	if err := c.Rcpt("a+y@example.test", nil); err == nil || err.(*smtp.SMTPError).Code != 452 {
		t.Errorf("third RCPT: %v, want 452", err)
	}
	// body over the limit: every recipient 552 5.3.4, nothing stored
	w, _ := c.Data()
	fmt.Fprint(w, strings.Repeat("0123456789012345678901234567890123456789\r\n", 100))
	err = w.Close()
	var le smtp.LMTPDataError
	if !errors.As(err, &le) || len(le) != 2 {
		t.Fatalf("oversized DATA: %v", err)
	}
	for r, e := range le {
		if e.Code != 552 || e.EnhancedCode != (smtp.EnhancedCode{5, 3, 4}) {
			t.Errorf("%s: %v", r, e)
		}
	}
	if n := len(newFiles(t, filepath.Join(cfg.MailRoot, "example.test/a/Maildir"))); n != 0 {
		t.Errorf("%d messages stored", n)
	}
	// a line over max_line_length ends the connection
	c2 := dialLMTP(t, addr)
	c2.Mail("s@example.org", nil)
	c2.Rcpt("a@example.test", nil)
	w, _ = c2.Data()
	fmt.Fprint(w, strings.Repeat("x", 1500)+"\r\n")
	if err := w.Close(); err == nil {
		t.Error("overlong line accepted")
	}
}

// TestLMTPPipelining sends a whole transaction in one write, as Postfix does.
func TestLMTPPipelining(t *testing.T) {
	cfg := testConfig(t)
	mbox := mkMaildir(t, cfg.MailRoot, "example.test/p/Maildir")
	_, addr := startServer(t, cfg)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	br.ReadString('\n')
	fmt.Fprint(conn, "LHLO x\r\n")
	for {
		l, _ := br.ReadString('\n')
		if strings.HasPrefix(l, "250 ") {
			break
		}
	}
	fmt.Fprint(conn, "MAIL FROM:<s@example.org>\r\nRCPT TO:<p@example.test>\r\nRCPT TO:<q@example.test>\r\nDATA\r\n")
	var got []string
	for i := 0; i < 4; i++ {
		l, _ := br.ReadString('\n')
		got = append(got, l[:3])
	}
	fmt.Fprint(conn, "Subject: p\r\n\r\nbody\r\n.\r\nQUIT\r\n")
	l, _ := br.ReadString('\n')
	got = append(got, l[:3])
	l, _ = br.ReadString('\n')
	got = append(got, l[:3])
	if strings.Join(got, " ") != "250 250 550 354 250 221" {
		t.Errorf("replies %v", got)
	}
	if n := len(newFiles(t, mbox)); n != 1 {
		t.Errorf("%d messages", n)
	}
}

// TestLMTPStartTLS: with a certificate STARTTLS is offered and a message
// goes through the encrypted session. (go-smtp's client has no LMTP STARTTLS,
// so the dialogue is written out here.)
func TestLMTPStartTLS(t *testing.T) {
	cfg := testConfig(t)
	cfg.TLSCert, cfg.TLSKey = writeCert(t)
	mbox := mkMaildir(t, cfg.MailRoot, "example.test/t/Maildir")
	_, addr := startServer(t, cfg)
	c := dialLMTP(t, addr)
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var rw *bufio.ReadWriter
	use := func(c net.Conn) { rw = bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c)) }
	use(conn)
	reply := func() string { // the last line of a (multi-line) reply
		for {
			l, err := rw.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(l) < 4 || l[3] != '-' {
				return strings.TrimRight(l, "\r\n")
			}
		}
	}
	send := func(s string) { rw.WriteString(s); rw.Flush() }
	reply()
	send("LHLO x\r\nSTARTTLS\r\n")
	reply()
	if r := reply(); !strings.HasPrefix(r, "220") {
		t.Fatalf("STARTTLS: %s", r)
	}
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	use(tc)
	send("LHLO x\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<t@example.test>\r\nDATA\r\n")
	var got []string
	for i := 0; i < 4; i++ {
		got = append(got, reply()[:3])
	}
	send(testMsg + ".\r\n")
	got = append(got, reply()[:3])
	if strings.Join(got, " ") != "250 250 250 354 250" {
		t.Errorf("replies %v", got)
	}
	if n := len(newFiles(t, mbox)); n != 1 {
		t.Errorf("%d messages", n)
	}
}

func writeCert(t testing.TB) (string, string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lmtp.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"lmtp.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	cp, kp := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(kp, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cp, kp
}

// TestLMTPConnectionLimitAndDrain: over max_connections and while draining
// new connections get 421 4.3.2; open ones continue.
func TestLMTPConnectionLimitAndDrain(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxConnections = 1
	mbox := mkMaildir(t, cfg.MailRoot, "example.test/d/Maildir")
	srv, addr := startServer(t, cfg)
	c := dialLMTP(t, addr)
	greeting := func() string {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		l, _ := bufio.NewReader(conn).ReadString('\n')
		return l
	}
	if g := greeting(); !strings.HasPrefix(g, "421 4.3.2") {
		t.Errorf("second connection greeted %q", g)
	}
	c.Close()
	waitFor(t, func() bool { return srv.Stats().ActiveConnections == 0 })
	srv.SetDraining(true)
	if g := greeting(); !strings.HasPrefix(g, "421 4.3.2") {
		t.Errorf("draining: greeted %q", g)
	}
	srv.SetDraining(false)
	c = dialLMTP(t, addr)
	if err := c.SendMail("s@example.org", []string{"d@example.test"}, strings.NewReader(testMsg)); err != nil {
		t.Fatal(err)
	}
	// draining does not touch an open connection
	srv.SetDraining(true)
	if err := c.SendMail("s@example.org", []string{"d@example.test"}, strings.NewReader(testMsg)); err != nil {
		t.Fatalf("open connection while draining: %v", err)
	}
	if n := len(newFiles(t, mbox)); n != 2 {
		t.Errorf("%d messages", n)
	}
	if st := srv.Stats(); st.RejectedConns != 2 || !st.Draining {
		t.Errorf("stats %+v", st)
	}
}

func waitFor(t testing.TB, f func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if f() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached in 5 s")
}

// TestLMTPCloseFinishesInFlight: Close ends idle connections at once but a
// message being transferred is stored and answered 250.
func TestLMTPCloseFinishesInFlight(t *testing.T) {
	cfg := testConfig(t)
	mbox := mkMaildir(t, cfg.MailRoot, "example.test/f/Maildir")
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	idle := dialLMTP(t, l.Addr().String())
	busy := dialLMTP(t, l.Addr().String())
	busy.Mail("s@example.org", nil)
	busy.Rcpt("f@example.test", nil)
	w, err := busy.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "Subject: half\r\n\r\nfirst half\r\n")
	waitFor(t, func() bool { return srv.Stats().ActiveConnections == 2 })
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	time.Sleep(200 * time.Millisecond)
	select {
	case <-closed:
		t.Fatal("Close returned while a transfer was in progress")
	default:
	}
	if err := idle.Noop(); err == nil {
		t.Error("idle connection still served after Close")
	}
	fmt.Fprint(w, "second half\r\n")
	if err := w.Close(); err != nil {
		t.Fatalf("in-flight message: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case err := <-closed:
			if err != nil {
				t.Errorf("Close: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Close did not return")
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return")
		}
	}()
	wg.Wait()
	files := newFiles(t, mbox)
	if len(files) != 1 || !strings.HasSuffix(files[firstKey(files)], "first half\nsecond half\n") {
		t.Errorf("stored %v", files)
	}
	if _, err := net.DialTimeout("tcp", l.Addr().String(), time.Second); err == nil {
		t.Error("still accepting after Close")
	}
}

// TestLMTPChunking: go-smtp offers CHUNKING; a BDAT transfer is stored like
// DATA (the body is taken as is: BDAT has no dot-stuffing).
func TestLMTPChunking(t *testing.T) {
	cfg := testConfig(t)
	mbox := mkMaildir(t, cfg.MailRoot, "example.test/c/Maildir")
	_, addr := startServer(t, cfg)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	last := func() string {
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if len(l) < 4 || l[3] != '-' {
				return l[:3]
			}
		}
	}
	last()
	part1, part2 := "Subject: chunks\r\n\r\n.not stuffed\r\n", "second chunk\r\n"
	fmt.Fprintf(conn, "LHLO x\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<c@example.test>\r\nBDAT %d\r\n%sBDAT %d LAST\r\n%s", len(part1), part1, len(part2), part2)
	var got []string
	for i := 0; i < 5; i++ {
		got = append(got, last())
	}
	if strings.Join(got, " ") != "250 250 250 250 250" {
		t.Errorf("replies %v", got)
	}
	files := newFiles(t, mbox)
	want := "Return-Path: <s@example.org>\nDelivered-To: c@example.test\nSubject: chunks\n\n.not stuffed\nsecond chunk\n"
	if len(files) != 1 || files[firstKey(files)] != want {
		t.Errorf("stored %q", files)
	}
}

// TestLMTPManyRecipients: one message to 20 mailboxes (copies are written in
// parallel) gets 20 replies in order and exactly one copy in each.
func TestLMTPManyRecipients(t *testing.T) {
	cfg := testConfig(t)
	var rcpts []string
	for i := 0; i < 20; i++ {
		u := fmt.Sprintf("u%02d", i)
		mkMaildir(t, cfg.MailRoot, "example.test/"+u+"/Maildir")
		rcpts = append(rcpts, u+"@example.test")
	}
	srv, addr := startServer(t, cfg)
	c := dialLMTP(t, addr)
	if err := c.SendMail("s@example.org", rcpts, strings.NewReader(testMsg)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		files := newFiles(t, filepath.Join(cfg.MailRoot, fmt.Sprintf("example.test/u%02d/Maildir", i)))
		want := fmt.Sprintf("Return-Path: <s@example.org>\nDelivered-To: u%02d@example.test\n", i) + testMsgLF
		if len(files) != 1 || files[firstKey(files)] != want {
			t.Errorf("u%02d: %v", i, files)
		}
	}
	if st := srv.Stats(); st.Deliveries != 20 {
		t.Errorf("stats %+v", st)
	}
}

func TestSafeNode(t *testing.T) {
	for in, want := range map[string]string{
		"node1.example": "node1.example",
		"a/b:c,d":       `a\057b\072c\054d`,
		"x\ny\\":        `x\012y\134`,
	} {
		if got := safeNode(in); got != want {
			t.Errorf("safeNode(%q) = %q, want %q", in, got, want)
		}
	}
}
