package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	iadmin "shoal/internal/admin"
	"shoal/smbnode/wire"
	"shoal/tests/testenv"
)

// TestListingsAndKill: real clients hold sessions, opens and locks; every
// nodectl listing shows them in tables and JSON; kill disconnects one and
// its locks vanish.
func TestListingsAndKill(t *testing.T) {
	d := startDev(t, "n1")
	// go-smb2 holds an open file.
	gs := mount(t, d.Addr, d.User, d.Pass)
	held, err := gs.fs.OpenFile("held.txt", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// The raw client holds an open with two byte-range locks.
	raw := dialRaw(t, d.Addr, d.User, d.Pass, "data")
	fid, err := raw.open("locked.bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		off, n uint64
		excl   bool
	}{{100, 10, true}, {200, 1, false}} {
		if st, err := raw.lock(fid, l.off, l.n, l.excl); err != nil || st != 0 {
			t.Fatalf("lock %d+%d: %v %v", l.off, l.n, st, err)
		}
	}
	// smbclient holds a plain session (its commands wait on stdin).
	testenv.Require(t, "smbclient")
	{
		cmd := exec.Command("smbclient", "//"+d.Host+"/data", "-p", fmt.Sprint(d.Port), "-U", d.User+"%"+d.Pass)
		stdin, _ := cmd.StdinPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	}
	var sessions []iadmin.NodeSessions
	eventually(t, "three sessions", func() bool {
		sessions = nil
		nodectlJSON(t, d.socket, &sessions, "sessions")
		return len(sessions) == 1 && len(sessions[0].Sessions) == 3
	})
	var rawSess *iadmin.Session
	for i, s := range sessions[0].Sessions {
		if s.Node != "n1" || !strings.HasSuffix(strings.ToLower(s.User), "tester") || s.State != "valid" || s.Signing != "required" {
			t.Errorf("session row %+v", s)
		}
		if s.ID == raw.c.SessionID() {
			rawSess = &sessions[0].Sessions[i]
		}
	}
	if rawSess == nil || rawSess.Dialect != "2.1" || rawSess.Opens != 1 {
		t.Fatalf("raw client's session %#x: %+v", raw.c.SessionID(), rawSess)
	}
	out, code := nodectl(t, d.socket, "", "sessions")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("0x%x", raw.c.SessionID())) || !strings.Contains(out, "2.1") || strings.Count(out, "\nn1 ") != 3 {
		t.Errorf("sessions table (exit %d):\n%s", code, out)
	}

	var files []iadmin.NodeFiles
	nodectlJSON(t, d.socket, &files, "files")
	paths := map[string]iadmin.File{}
	for _, f := range files[0].Files {
		paths[f.Path] = f
	}
	if f, ok := paths["locked.bin"]; !ok || f.Session != raw.c.SessionID() || f.ShareAccess != 7 || f.Node != "n1" {
		t.Errorf("files: locked.bin %+v (all: %+v)", f, files)
	}
	if _, ok := paths["held.txt"]; !ok {
		t.Errorf("files: held.txt missing: %+v", files)
	}
	out, code = nodectl(t, d.socket, "", "files")
	if code != 0 || !strings.Contains(out, "held.txt") || !strings.Contains(out, "locked.bin") || !strings.Contains(out, "RWD") {
		t.Errorf("files table (exit %d):\n%s", code, out)
	}

	var locks []iadmin.NodeLocks
	nodectlJSON(t, d.socket, &locks, "locks")
	if len(locks) != 1 || len(locks[0].Locks) != 2 {
		t.Fatalf("locks: %+v", locks)
	}
	l0, l1 := locks[0].Locks[0], locks[0].Locks[1]
	if l0.Offset != 100 || l0.Length != 10 || !l0.Exclusive || l0.Path != "locked.bin" || l0.Session != raw.c.SessionID() || l0.Node != "n1" ||
		l1.Offset != 200 || l1.Length != 1 || l1.Exclusive {
		t.Errorf("locks: %+v", locks[0].Locks)
	}
	out, code = nodectl(t, d.socket, "", "locks")
	if code != 0 || !strings.Contains(out, "100-109") || !strings.Contains(out, "exclusive") || !strings.Contains(out, "shared") {
		t.Errorf("locks table (exit %d):\n%s", code, out)
	}

	var status []iadmin.NodeStatus
	nodectlJSON(t, d.socket, &status, "status")
	if len(status) != 1 || status[0].Node != "n1" || status[0].State != "healthy" || status[0].Sessions != 3 || status[0].Opens < 2 {
		t.Errorf("status: %+v", status)
	}
	if out, code := nodectl(t, d.socket, "", "status"); code != 0 || !strings.Contains(out, "healthy") {
		t.Errorf("status table (exit %d):\n%s", code, out)
	}
	if v := metric(t, d.metrics, "shoal_smb_sessions"); v != 3 {
		t.Errorf("shoal_smb_sessions = %v", v)
	}
	if v := metric(t, d.metrics, `shoal_lock_ops_total{op="lock",result="ok"}`); v != 2 {
		t.Errorf("lock ops = %v, want 2", v)
	}

	// A second lock on the same range from go-smb2's view is impossible;
	// from another raw session it conflicts while the first one lives.
	raw2 := dialRaw(t, d.Addr, d.User, d.Pass, "data")
	fid2, err := raw2.open("locked.bin")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := raw2.lock(fid2, 105, 1, true); st != wire.StatusLockNotGranted {
		t.Errorf("conflicting lock: %v, want STATUS_LOCK_NOT_GRANTED", st)
	}

	// kill the raw client's session: its connection drops, its locks go.
	out, code = nodectl(t, d.socket, "", "kill", fmt.Sprintf("0x%x", raw.c.SessionID()))
	if code != 0 || !strings.Contains(out, "disconnected") {
		t.Errorf("kill (exit %d): %s", code, out)
	}
	eventually(t, "the killed client's connection to drop", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), rawTimeout)
		defer cancel()
		_, err := raw.c.Do(ctx, wire.CommandEcho, (&wire.EchoRequest{}).Append)
		return err != nil
	})
	eventually(t, "the killed session's locks to vanish", func() bool {
		var ls []iadmin.NodeLocks
		nodectlJSON(t, d.socket, &ls, "locks")
		return len(ls) == 1 && len(ls[0].Locks) == 0
	})
	if st, err := raw2.lock(fid2, 105, 1, true); err != nil || st != 0 {
		t.Errorf("lock after kill: %v %v", st, err)
	}
	// The other clients carry on.
	if _, err := held.Write([]byte("still here")); err != nil {
		t.Errorf("go-smb2 after the kill of another session: %v", err)
	}
	if _, code := nodectl(t, d.socket, "", "kill", fmt.Sprintf("0x%x", raw.c.SessionID())); code != 1 {
		t.Errorf("kill of a gone session: exit %d, want 1", code)
	}
}

func TestUsage(t *testing.T) {
	d := startDev(t, "n1")
	tests := [][]string{
		{},
		{"frobnicate"},
		{"kill"},
		{"kill", "notanumber"},
		{"drain"},
		{"users"},
		{"users", "add"},
		{"status", "extra"},
	}
	for _, args := range tests {
		if _, code := nodectl(t, d.socket, "", args...); code != 2 {
			t.Errorf("nodectl %v: exit %d, want 2", args, code)
		}
	}
	if _, code := nodectl(t, filepath.Join(shortDir(t), "none.sock"), "", "status"); code != 1 {
		t.Errorf("no noded: exit %d, want 1", code)
	}
	if _, code := nodectl(t, d.socket, "", "drain", "nosuchnode"); code != 1 {
		t.Errorf("drain of an unknown node: exit %d, want 1", code)
	}
}

// TestDrain: drain refuses new SMB and LMTP connections while old ones
// keep working; undrain accepts again.
func TestDrain(t *testing.T) {
	d := startDev(t, "n1")
	d.WaitLMTP(t)
	// One delivery and one refused recipient show in the metrics.
	lc, err := net.Dial("tcp", d.LMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	c := gosmtp.NewClientLMTP(lc)
	if err := c.Hello("test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("sender@example.org", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("anna@example.org", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(".hidden@example.org", nil); err == nil {
		t.Error("recipient with a leading dot accepted")
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: hi\r\n\r\nhello\r\n"))
	if _, err := w.CloseWithLMTPResponse(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if v := metric(t, d.metrics, "shoal_lmtp_deliveries_total"); v != 1 {
		t.Errorf("shoal_lmtp_deliveries_total = %v", v)
	}
	if v := metric(t, d.metrics, `shoal_lmtp_failures_total{reason="bad_address"}`); v != 1 {
		t.Errorf("bad_address failures = %v", v)
	}
	old := mount(t, d.Addr, d.User, d.Pass)
	if out, code := nodectl(t, d.socket, "", "drain", "n1"); code != 0 || !strings.Contains(out, "draining") {
		t.Fatalf("drain (exit %d): %s", code, out)
	}
	if canLogon(d.Addr, d.User, d.Pass) {
		t.Error("a new SMB connection was accepted while draining")
	}
	if err := old.fs.WriteFile("during-drain.txt", []byte("ok"), 0o644); err != nil {
		t.Errorf("existing session while draining: %v", err)
	}
	if c, err := smtp.Dial(d.LMTPAddr); err == nil {
		c.Close()
		t.Error("LMTP greeted a new connection while draining")
	}
	var st []iadmin.NodeStatus
	nodectlJSON(t, d.socket, &st, "status")
	if st[0].State != "draining" {
		t.Errorf("status while draining: %+v", st)
	}
	if v := metric(t, d.metrics, "shoal_draining"); v != 1 {
		t.Errorf("shoal_draining = %v", v)
	}
	if _, code := nodectl(t, d.socket, "", "undrain", "n1"); code != 0 {
		t.Fatalf("undrain: exit %d", code)
	}
	if !canLogon(d.Addr, d.User, d.Pass) {
		t.Error("no new SMB connection after undrain")
	}
}

// TestUsers: add, passwd, del, list; passwords only on stdin.
func TestUsers(t *testing.T) {
	d := startDev(t, "n1")
	if _, code := nodectl(t, d.socket, "Bob-pw-1\n", "users", "add", "bob"); code != 0 {
		t.Fatalf("users add: exit %d", code)
	}
	if !canLogon(d.Addr, "bob", "Bob-pw-1") {
		t.Fatal("bob cannot log on after users add")
	}
	if _, code := nodectl(t, d.socket, "x\n", "users", "add", "bob"); code != 1 {
		t.Errorf("adding bob twice: exit %d, want 1", code)
	}
	if _, code := nodectl(t, d.socket, "", "users", "add", "carol"); code != 1 {
		t.Errorf("users add without a password on stdin: exit %d, want 1", code)
	}
	if _, code := nodectl(t, d.socket, "Bob-pw-2\n", "users", "passwd", "bob"); code != 0 {
		t.Fatalf("users passwd: exit %d", code)
	}
	if canLogon(d.Addr, "bob", "Bob-pw-1") || !canLogon(d.Addr, "bob", "Bob-pw-2") {
		t.Error("after passwd: the old password works or the new one does not")
	}
	out, code := nodectl(t, d.socket, "", "users", "list")
	if code != 0 || out != "bob\n"+strings.ToLower(d.User)+"\n" {
		t.Errorf("users list (exit %d): %q", code, out)
	}
	if _, code := nodectl(t, d.socket, "", "users", "del", "bob"); code != 0 {
		t.Fatalf("users del: exit %d", code)
	}
	if canLogon(d.Addr, "bob", "Bob-pw-2") {
		t.Error("bob can still log on after users del")
	}
	if _, code := nodectl(t, d.socket, "", "users", "del", "bob"); code != 1 {
		t.Errorf("deleting a deleted user: exit %d, want 1", code)
	}
}

// TestUsersImportSmbpasswd imports a file written by Samba's own smbpasswd
// (private smb.conf, nothing on the system touched) and logs on with it.
// smbpasswd -a needs existing Unix accounts: daemon and bin exist on every
// Debian system.
func TestUsersImportSmbpasswd(t *testing.T) {
	testenv.Require(t, "smbpasswd")
	dir := shortDir(t)
	conf := filepath.Join(dir, "smb.conf")
	var b strings.Builder
	fmt.Fprintf(&b, "[global]\n  passdb backend = smbpasswd:%s/smbpasswd\n", dir)
	for _, k := range []string{"private dir", "lock directory", "state directory", "cache directory", "pid directory", "ncalrpc dir"} {
		sub := filepath.Join(dir, strings.ReplaceAll(k, " ", "_"))
		os.MkdirAll(sub, 0o700)
		fmt.Fprintf(&b, "  %s = %s\n", k, sub)
	}
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	smbpasswd := func(stdin string, args ...string) {
		cmd := exec.Command("smbpasswd", append([]string{"-c", conf}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("smbpasswd %v: %v\n%s", args, err, out)
		}
	}
	smbpasswd("Daemon-pw-1\nDaemon-pw-1\n", "-a", "-s", "daemon")
	smbpasswd("Bin-pw-1\nBin-pw-1\n", "-a", "-s", "bin")
	smbpasswd("", "-d", "bin") // disabled: must not be imported
	file := filepath.Join(dir, "smbpasswd")
	if raw, err := os.ReadFile(file); err == nil {
		t.Logf("smbpasswd file:\n%s", raw)
	}

	d := startDev(t, "n1")
	out, code := nodectl(t, d.socket, "", "users", "import", file)
	if code != 0 || !strings.Contains(out, "imported 1 users") {
		t.Fatalf("users import (exit %d): %s", code, out)
	}
	if !canLogon(d.Addr, "daemon", "Daemon-pw-1") {
		t.Error("imported user daemon cannot log on")
	}
	if canLogon(d.Addr, "bin", "Bin-pw-1") {
		t.Error("disabled user bin was imported")
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("daemon:1:short\n"), 0o600)
	if _, code := nodectl(t, d.socket, "", "users", "import", bad); code != 1 {
		t.Errorf("import of a malformed file: exit %d, want 1", code)
	}
}

// TestCluster: three -config nodes that know each other as admin peers.
// Clients on different nodes show up under the right node from any node's
// socket; kill and drain reach other nodes; users fan out; a stopped node
// is an error row and exit status 3.
func TestCluster(t *testing.T) {
	const user, pass = "tester", "Tester-pw-1"
	nodes := startCluster(t, []string{"n1", "n2", "n3"}, user, pass)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	mount(t, n1.SMBAddr, user, pass)
	raw := dialRaw(t, n2.SMBAddr, user, pass, "data")
	fid, err := raw.open("shared.bin")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := raw.lock(fid, 0, 4096, true); err != nil || st != 0 {
		t.Fatalf("lock on n2: %v %v", st, err)
	}

	for _, from := range nodes {
		var ss []iadmin.NodeSessions
		if code := nodectlJSON(t, from.Socket, &ss, "sessions"); code != 0 {
			t.Errorf("sessions from %s: exit %d", from.Name, code)
		}
		count := map[string]int{}
		for _, n := range ss {
			if n.Err != "" {
				t.Errorf("sessions from %s: %s: %s", from.Name, n.Node, n.Err)
			}
			for _, s := range n.Sessions {
				if s.Node != n.Node {
					t.Errorf("session %#x under %s says %s", s.ID, n.Node, s.Node)
				}
				count[n.Node]++
			}
		}
		if fmt.Sprint(count) != "map[n1:1 n2:1]" || len(ss) != 3 {
			t.Errorf("sessions from %s by node: %v (%d rows)", from.Name, count, len(ss))
		}
		var ls []iadmin.NodeLocks
		nodectlJSON(t, from.Socket, &ls, "locks")
		found := false
		for _, n := range ls {
			for _, l := range n.Locks {
				found = found || (n.Node == "n2" && l.Session == raw.c.SessionID() && l.Length == 4096 && l.Path == "shared.bin")
				if n.Node != "n2" {
					t.Errorf("lock listed under %s: %+v", n.Node, l)
				}
			}
		}
		if !found {
			t.Errorf("locks from %s: n2's lock missing: %+v", from.Name, ls)
		}
	}
	out, _ := nodectl(t, n1.Socket, "", "files")
	if !strings.Contains(out, "n2    data   shared.bin") {
		t.Errorf("files table from n1 does not show n2's open:\n%s", out)
	}

	// Kill n2's session through n1.
	if out, code := nodectl(t, n1.Socket, "", "kill", fmt.Sprintf("%d", raw.c.SessionID())); code != 0 || !strings.Contains(out, "n2: session") {
		t.Errorf("kill through n1 (exit %d): %s", code, out)
	}
	eventually(t, "n2's locks to vanish", func() bool {
		var ls []iadmin.NodeLocks
		nodectlJSON(t, n3.Socket, &ls, "locks")
		total := 0
		for _, n := range ls {
			total += len(n.Locks)
		}
		return total == 0
	})

	// Drain n2 through n1: n2 refuses, n1 accepts.
	if _, code := nodectl(t, n1.Socket, "", "drain", "n2"); code != 0 {
		t.Fatalf("drain n2: exit %d", code)
	}
	if canLogon(n2.SMBAddr, user, pass) {
		t.Error("n2 accepted a new connection while drained")
	}
	if !canLogon(n1.SMBAddr, user, pass) {
		t.Error("n1 refused a connection while n2 was drained")
	}
	var st []iadmin.NodeStatus
	nodectlJSON(t, n3.Socket, &st, "status")
	for _, s := range st {
		if want := map[bool]string{true: "draining", false: "healthy"}[s.Node == "n2"]; s.State != want {
			t.Errorf("status from n3: %s is %s, want %s", s.Node, s.State, want)
		}
	}
	nodectl(t, n3.Socket, "", "undrain", "n2")
	if !canLogon(n2.SMBAddr, user, pass) {
		t.Error("n2 refused a connection after undrain")
	}

	// A user added on n1 logs on everywhere; the users files persist it.
	if out, code := nodectl(t, n1.Socket, "Dora-pw-1\n", "users", "add", "dora"); code != 0 || strings.Count(out, "user dora added") != 3 {
		t.Fatalf("users add through n1 (exit %d): %s", code, out)
	}
	for _, n := range nodes {
		if !canLogon(n.SMBAddr, "dora", "Dora-pw-1") {
			t.Errorf("dora cannot log on to %s", n.Name)
		}
	}

	// n3 stops: it is an error row, and nodectl exits 3.
	if err := n3.Stop(); err != nil {
		t.Error(err)
	}
	out, code := nodectl(t, n1.Socket, "", "status")
	if code != 3 || !strings.Contains(out, "n3") || !strings.Contains(out, "down") {
		t.Errorf("status with n3 down (exit %d):\n%s", code, out)
	}
	var ss []iadmin.NodeSessions
	if code := nodectlJSON(t, n1.Socket, &ss, "sessions"); code != 3 || len(ss) != 3 || ss[2].Node != "n3" || ss[2].Err == "" {
		t.Errorf("sessions with n3 down: exit %d, %+v", code, ss)
	}
	if out, code := nodectl(t, n2.Socket, "", "locks"); code != 3 || !strings.Contains(out, "n3    ERROR") {
		t.Errorf("locks with n3 down (exit %d):\n%s", code, out)
	}
}

// TestBreaks: an oplock held by one client is broken by another's open;
// nodectl files shows the caching before and after, and the break is
// counted with its acknowledgment latency.
func TestBreaks(t *testing.T) {
	d := startDev(t, "n1")
	r1 := dialRaw(t, d.Addr, d.User, d.Pass, "data")
	fid, granted, err := r1.openOplock("brk.bin", 0x09) // batch
	if err != nil {
		t.Fatal(err)
	}
	if granted != 0x09 {
		t.Fatalf("oplock granted %#x, want batch", granted)
	}
	caching := func() string {
		var fs []iadmin.NodeFiles
		nodectlJSON(t, d.socket, &fs, "files")
		for _, f := range fs[0].Files {
			if f.Session == r1.c.SessionID() {
				return f.Caching
			}
		}
		return "(no open)"
	}
	if c := caching(); c != "batch" {
		t.Errorf("caching before the break: %s", c)
	}
	r2 := dialRaw(t, d.Addr, d.User, d.Pass, "data")
	opened := make(chan error, 1)
	go func() {
		_, err := r2.open("brk.bin")
		opened <- err
	}()
	bid, level, err := r1.waitBreak()
	if err != nil || bid != fid {
		t.Fatalf("break: %v %v", bid, err)
	}
	if err := r1.ackBreak(fid, level); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("second open: %v", err)
	}
	if c, want := caching(), map[uint8]string{0: "none", 1: "level2"}[level]; c != want {
		t.Errorf("caching after the break to %#x: %s, want %s", level, c, want)
	}
	if v := metric(t, d.metrics, `shoal_breaks_total{ack="required",kind="oplock"}`); v != 1 {
		t.Errorf("breaks_total = %v, want 1", v)
	}
	if v := metric(t, d.metrics, "shoal_break_ack_seconds_count"); v != 1 {
		t.Errorf("break_ack_seconds_count = %v, want 1", v)
	}
}

// TestClusterLockdb: three nodes joined by the lock database. The
// generation and coordinator agree everywhere; a user added on one node
// (replicated table) logs on to every node; a lock taken through n2
// conflicts on n3 and is listed under n2 from every node; killing the
// session through n1 releases it cluster-wide; a stopped node is an error
// row.
func TestClusterLockdb(t *testing.T) {
	const user, pass = "tester", "Tester-pw-1"
	nodes := startClusterOpts(t, []string{"n1", "n2", "n3"}, user, pass, true)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]

	var st []iadmin.NodeStatus
	eventually(t, "one generation with three members", func() bool {
		st = nil
		out, code := nodectl(t, n2.Socket, "", "status", "--json")
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st) != 3 {
			return false
		}
		for _, s := range st {
			if s.Err != "" || s.State != "healthy" || s.Generation == 0 || s.Generation != st[0].Generation ||
				s.Coordinator == "" || s.Coordinator != st[0].Coordinator {
				return false
			}
		}
		return true
	})
	if out, _ := nodectl(t, n1.Socket, "", "status"); !strings.Contains(out, st[0].Coordinator) {
		t.Errorf("status table lacks the coordinator:\n%s", out)
	}

	// The users table is the cluster's: one write, every node.
	out, code := nodectl(t, n1.Socket, pass+"\n", "users", "add", user)
	if code != 0 || !strings.Contains(out, "n1: user tester added") {
		t.Fatalf("users add (exit %d): %s", code, out)
	}
	for _, n := range nodes {
		n := n
		eventually(t, "tester to log on to "+n.Name, func() bool { return canLogon(n.SMBAddr, user, pass) })
	}
	var ul iadmin.UserList
	nodectlJSON(t, n3.Socket, &ul, "users", "list")
	if !ul.Replicated || fmt.Sprint(ul.Users) != "[tester]" {
		t.Errorf("users list on n3: %+v", ul)
	}

	mount(t, n1.SMBAddr, user, pass)
	r2 := dialRaw(t, n2.SMBAddr, user, pass, "data")
	f2, err := r2.open("cluster.bin")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := r2.lock(f2, 0, 100, true); err != nil || s != 0 {
		t.Fatalf("lock through n2: %v %v", s, err)
	}
	r3 := dialRaw(t, n3.SMBAddr, user, pass, "data")
	f3, err := r3.open("cluster.bin")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := r3.lock(f3, 50, 1, true); s != wire.StatusLockNotGranted {
		t.Errorf("conflicting lock through n3: %v, want STATUS_LOCK_NOT_GRANTED", s)
	}
	for _, from := range nodes {
		var ls []iadmin.NodeLocks
		nodectlJSON(t, from.Socket, &ls, "locks")
		var where []string
		for _, n := range ls {
			if n.Err != "" {
				t.Errorf("locks from %s: %s: %s", from.Name, n.Node, n.Err)
			}
			for _, l := range n.Locks {
				where = append(where, fmt.Sprintf("%s:%s:%d+%d:%#x", n.Node, l.Path, l.Offset, l.Length, l.Session))
			}
		}
		if want := fmt.Sprintf("[n2:cluster.bin:0+100:%#x]", r2.c.SessionID()); fmt.Sprint(where) != want {
			t.Errorf("locks from %s: %v, want %s", from.Name, where, want)
		}
		var fs []iadmin.NodeFiles
		nodectlJSON(t, from.Socket, &fs, "files")
		opens := map[string]int{}
		for _, n := range fs {
			for _, f := range n.Files {
				if f.Path == "cluster.bin" {
					opens[n.Node]++
				}
			}
		}
		if fmt.Sprint(opens) != "map[n2:1 n3:1]" {
			t.Errorf("files from %s: opens of cluster.bin by node %v", from.Name, opens)
		}
	}

	if out, code := nodectl(t, n1.Socket, "", "kill", fmt.Sprintf("%#x", r2.c.SessionID())); code != 0 || !strings.Contains(out, "n2: session") {
		t.Fatalf("kill through n1 (exit %d): %s", code, out)
	}
	eventually(t, "n2's lock to be released cluster-wide", func() bool {
		s, err := r3.lock(f3, 50, 1, true)
		return err == nil && s == 0
	})
	var ls []iadmin.NodeLocks
	nodectlJSON(t, n1.Socket, &ls, "locks")
	for _, n := range ls {
		for _, l := range n.Locks {
			if n.Node != "n3" || l.Offset != 50 {
				t.Errorf("after kill: lock %+v under %s", l, n.Node)
			}
		}
	}

	if err := n3.Stop(); err != nil {
		t.Error(err)
	}
	eventually(t, "n3 to show as down", func() bool {
		out, code := nodectl(t, n1.Socket, "", "status")
		return code == 3 && strings.Contains(out, "n3") && strings.Contains(out, "down")
	})
}
