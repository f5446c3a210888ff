package smb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	smb2 "github.com/hirochachacha/go-smb2"

	"shoal/tests/testenv"
)

// dialect is one SMB2/3 dialect the go-smb2 client can be pinned to.
type dialect struct {
	name string
	code uint16
}

// dialects are all the dialects go-smb2 v1.1.0 speaks; 0 = let it negotiate.
var dialects = []dialect{
	{"2.0.2", 0x0202},
	{"2.1", 0x0210},
	{"3.0", 0x0300},
	{"3.0.2", 0x0302},
	{"3.1.1", 0x0311},
	{"negotiated", 0},
}

// Status codes the tests expect ([MS-ERREF] 2.3).
const (
	statusLogonFailure = 0xC000006D
)

// dialSMB opens a go-smb2 session to n as user/pass, pinned to dialect code
// (0: negotiate). The session is logged off at the end of t.
//
// The client does not ask for signing itself: the server decides, and
// against noded (signing required by default) every message is signed. A
// client-side requirement would make go-smb2 v1.1.0 reject the unsigned
// interim (STATUS_PENDING) responses that MS-SMB2 3.3.4.2 says a server
// SHOULD NOT sign; Samba sends them for flush, large writes and pipe reads,
// so those fail with "signing required". The same holds for noded once its
// session requires signing: it must answer READ, WRITE, FLUSH and pipe
// IOCTLs without an interim response for go-smb2 to work at all.
func dialSMB(t testing.TB, n *testenv.Node, code uint16, user, pass string) (*smb2.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", n.Addr)
	if err != nil {
		return nil, err
	}
	d := &smb2.Dialer{
		Negotiator: smb2.Negotiator{SpecifiedDialect: code},
		Initiator:  &smb2.NTLMInitiator{User: user, Password: pass},
	}
	s, err := d.DialContext(ctx, c)
	if err != nil {
		c.Close()
		return nil, err
	}
	t.Cleanup(func() {
		s.Logoff()
		c.Close()
	})
	return s, nil
}

// mount logs on to n with its test account and mounts its share.
func mount(t testing.TB, n *testenv.Node, code uint16) (*smb2.Session, *smb2.Share) {
	t.Helper()
	s, err := dialSMB(t, n, code, n.User, n.Pass)
	if err != nil {
		t.Fatalf("session setup with %s (dialect %#x): %v", n.Addr, code, err)
	}
	fs, err := s.Mount(n.Share)
	if err != nil {
		t.Fatalf("tree connect %s: %v", n.Share, err)
	}
	t.Cleanup(func() { fs.Umount() })
	return s, fs
}

// scratchDir makes a directory of its own in the share for test t (the
// share of an external server is not empty and outlives the test) and
// removes it at the end. Names use backslashes, as SMB does.
func scratchDir(t testing.TB, fs *smb2.Share) string {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.NewReplacer("/", "_", " ", "_", "=", "_").Replace(t.Name())
	dir := fmt.Sprintf("shoaltest-%s-%s", name, hex.EncodeToString(b))
	if err := fs.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := fs.RemoveAll(dir); err != nil {
			t.Errorf("cleanup: remove %s: %v", dir, err)
		}
	})
	return dir
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
