package smbnode

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"shoal/smbnode/auth"
	"shoal/smbnode/secdesc"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// secEnv is a share on a temporary directory and requests of two users.
type secEnv struct {
	t          *testing.T
	fs         *vfs.Share
	alice, bob *request
	aliceSID   secdesc.SID
	bobSID     secdesc.SID
}

func newSecEnv(t *testing.T) *secEnv {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Setxattr(dir, "user.shoal.probe", []byte{1}, 0); err != nil {
		t.Skipf("no user xattrs on %s: %v", dir, err)
	}
	fs, err := vfs.Open("data", dir, vfs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	srv := &Server{cfg: Config{ServerName: "SHOAL"}}
	sh := &share{cfg: ShareConfig{Name: "data"}, fs: fs}
	req := func(user string) *request {
		c := &conn{srv: srv, log: slog.New(slog.DiscardHandler)}
		s := &session{user: user}
		return &request{c: c, sess: s, tree: &tree{share: sh, sess: s, maxAccess: accessAll}}
	}
	dom := secdesc.DomainSID("SHOAL")
	return &secEnv{t: t, fs: fs, alice: req("alice"), bob: req("bob"),
		aliceSID: secdesc.UserSID(dom, "alice"), bobSID: secdesc.UserSID(dom, "bob")}
}

// create makes a file or directory on disk and returns an open of it for r.
func (e *secEnv) create(r *request, rel string, isDir bool) *open {
	e.t.Helper()
	var f *os.File
	var err error
	if isDir {
		if err = e.fs.Mkdir(rel); err == nil {
			f, err = e.fs.OpenFile(rel, os.O_RDONLY, 0)
		}
	} else {
		f, err = e.fs.OpenFile(rel, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { f.Close() })
	return &open{tree: r.tree, sess: r.sess, conn: r.c, f: f, isDir: isDir, rel: rel, name: rel}
}

// reopen opens rel again for r, as the create path does for an existing file.
func (e *secEnv) reopen(r *request, rel string) *open {
	e.t.Helper()
	f, err := e.fs.OpenFile(rel, os.O_RDONLY, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { f.Close() })
	info, _ := vfs.StatFile(f)
	return &open{tree: r.tree, sess: r.sess, conn: r.c, f: f, isDir: info.IsDir, rel: rel, name: rel}
}

// get queries o's descriptor as r and parses it.
func (e *secEnv) get(r *request, o *open, secInfo uint32) *secdesc.Descriptor {
	e.t.Helper()
	info, err := vfs.StatFile(o.f)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := r.getSecurity(o, info, secInfo)
	if err != nil {
		e.t.Fatal(err)
	}
	d, err := secdesc.Parse(b)
	if err != nil {
		e.t.Fatalf("getSecurity returned an unparsable descriptor: %v", err)
	}
	return d
}

// set stores d on o as r, through SET_INFO's path.
func (e *secEnv) set(r *request, o *open, secInfo uint32, d *secdesc.Descriptor) {
	e.t.Helper()
	if err := r.setSecurity(o, secInfo, d.Bytes()); err != nil {
		e.t.Fatal(err)
	}
}

func dacl(aces ...secdesc.ACE) *secdesc.Descriptor {
	return &secdesc.Descriptor{Control: secdesc.DACLPresent, DACL: &secdesc.ACL{Revision: secdesc.ACLRevision, ACEs: aces}}
}

func allow(flags uint8, mask uint32, s secdesc.SID) secdesc.ACE {
	return secdesc.ACE{Type: secdesc.AccessAllowed, Flags: flags, Mask: mask, SID: s}
}

func TestMappedDescriptor(t *testing.T) {
	e := newSecEnv(t)
	o := e.create(e.alice, "f.txt", false)
	all := secdesc.AllSecurityInformation &^ secdesc.SACLSecurityInformation
	for _, r := range []*request{e.alice, e.bob} {
		d := e.get(r, o, all)
		me := r.token().User
		if d.Owner != me {
			t.Errorf("%s: mapped owner %s, want the asking user %s", r.sess.user, d.Owner, me)
		}
		if d.DACL == nil || len(d.DACL.ACEs) == 0 || d.DACL.ACEs[0].SID != me {
			t.Errorf("%s: owner ACE not mapped to the asking user: %+v", r.sess.user, d.DACL)
		}
		if d.Group.IsZero() || d.Control&secdesc.DACLPresent == 0 {
			t.Errorf("%s: group or DACL missing: control %#x", r.sess.user, d.Control)
		}
	}
	// Only the parts asked for.
	d := e.get(e.alice, o, secdesc.OwnerSecurityInformation)
	if d.Owner != e.aliceSID || !d.Group.IsZero() || d.DACL != nil || d.Control&secdesc.DACLPresent != 0 {
		t.Errorf("owner-only query returned %+v", d)
	}
	// Reading stores nothing: the file stays mapped.
	if sd, err := loadSD(o.f); err != nil || sd != nil {
		t.Errorf("a query stored a descriptor: %v %v", sd, err)
	}
}

func TestSetSecurityMerges(t *testing.T) {
	e := newSecEnv(t)
	o := e.create(e.alice, "f.txt", false)
	before := e.get(e.alice, o, secdesc.AllSecurityInformation)

	// DACL only: owner and group stay what they were (the mapped ones).
	e.set(e.alice, o, secdesc.DACLSecurityInformation,
		&secdesc.Descriptor{Owner: e.bobSID, Control: secdesc.DACLPresent,
			DACL: &secdesc.ACL{Revision: secdesc.ACLRevisionDS, ACEs: []secdesc.ACE{allow(0, secdesc.FileGenericRead, secdesc.Everyone)}}})
	d := e.get(e.bob, o, secdesc.AllSecurityInformation)
	if d.Owner != e.aliceSID || d.Group != before.Group {
		t.Errorf("DACL-only set changed owner/group: %s %s, want %s %s", d.Owner, d.Group, e.aliceSID, before.Group)
	}
	if d.DACL == nil || d.DACL.Revision != secdesc.ACLRevisionDS || len(d.DACL.ACEs) != 1 || d.DACL.ACEs[0].SID != secdesc.Everyone {
		t.Errorf("DACL not stored as sent: %+v", d.DACL)
	}

	// Owner only.
	e.set(e.alice, o, secdesc.OwnerSecurityInformation, &secdesc.Descriptor{Owner: e.bobSID})
	if d := e.get(e.alice, o, secdesc.AllSecurityInformation); d.Owner != e.bobSID || len(d.DACL.ACEs) != 1 {
		t.Errorf("owner-only set: owner %s, DACL %+v", d.Owner, d.DACL)
	}

	// DACL bit without a DACL: a NULL DACL, reported as present and NULL.
	e.set(e.alice, o, secdesc.DACLSecurityInformation, &secdesc.Descriptor{})
	if d := e.get(e.alice, o, secdesc.DACLSecurityInformation); !d.NullDACL() {
		t.Errorf("NULL DACL reads back as %+v (control %#x)", d.DACL, d.Control)
	}

	// Garbage is refused and changes nothing.
	err := e.alice.setSecurity(o, secdesc.DACLSecurityInformation, []byte{1, 0, 4, 0x80, 0xff})
	if !errors.Is(err, wire.StatusInvalidSecurityDescr) {
		t.Errorf("truncated descriptor: %v, want STATUS_INVALID_SECURITY_DESCR", err)
	}
	if d := e.get(e.alice, o, secdesc.AllSecurityInformation); d.Owner != e.bobSID || !d.NullDACL() {
		t.Errorf("refused set changed the descriptor: %+v", d)
	}
}

func TestCheckAccess(t *testing.T) {
	const (
		read  = secdesc.FileGenericRead
		write = secdesc.FileGenericWrite
	)
	noDeleteChild := dacl(allow(0, secdesc.FileAllAccess&^secdesc.FileDeleteChild, secdesc.Everyone))
	tests := []struct {
		name      string
		parent    *secdesc.Descriptor // nil: parent stays mapped
		file      *secdesc.Descriptor // nil: file stays mapped
		owner     string              // file owner: "alice" or "bob"
		desired   uint32
		share     uint32 // what the share-level rules granted
		wantAcc   uint32
		wantError bool
	}{
		{name: "mapped file: share decides", desired: write | secdesc.Delete, share: write | secdesc.Delete, wantAcc: write | secdesc.Delete},
		{name: "granted", file: dacl(allow(0, read, secdesc.AuthenticatedUsers)), owner: "bob",
			desired: secdesc.GenericRead, share: read, wantAcc: read},
		{name: "not granted", file: dacl(allow(0, read, secdesc.Everyone)), owner: "bob",
			desired: secdesc.FileWriteData, share: secdesc.FileWriteData, wantError: true},
		{name: "empty DACL, owner reads control", file: dacl(), owner: "alice",
			desired: secdesc.ReadControl, share: secdesc.ReadControl, wantAcc: secdesc.ReadControl},
		{name: "empty DACL, owner writes", file: dacl(), owner: "alice",
			desired: secdesc.FileWriteData, share: secdesc.FileWriteData, wantError: true},
		{name: "NULL DACL", file: &secdesc.Descriptor{Control: secdesc.DACLPresent}, owner: "bob",
			desired: secdesc.FileWriteData, share: secdesc.FileWriteData, wantAcc: secdesc.FileWriteData},
		{name: "creator owner ACE matches nobody", file: dacl(allow(0, read|secdesc.FileWriteData, secdesc.CreatorOwner)), owner: "alice",
			desired: secdesc.FileWriteData, share: secdesc.FileWriteData, wantError: true},
		{name: "maximum allowed is what the DACL grants", parent: noDeleteChild, file: dacl(allow(0, read, secdesc.Everyone)), owner: "bob",
			desired: secdesc.MaximumAllowed, share: accessAll, wantAcc: read},
		{name: "maximum allowed includes DELETE a mapped parent gives", file: dacl(allow(0, read, secdesc.Everyone)), owner: "bob",
			desired: secdesc.MaximumAllowed, share: accessAll, wantAcc: read | secdesc.Delete},
		{name: "maximum allowed capped by the share", file: dacl(allow(0, secdesc.FileAllAccess, secdesc.Everyone)), owner: "bob",
			desired: secdesc.MaximumAllowed, share: accessReadOnly, wantAcc: accessReadOnly},
		{name: "maximum allowed, nothing granted", parent: dacl(), file: dacl(), owner: "bob",
			desired: secdesc.MaximumAllowed, share: accessAll, wantError: true},
		{name: "maximum allowed plus a missing right", parent: noDeleteChild, file: dacl(allow(0, read, secdesc.Everyone)), owner: "bob",
			desired: secdesc.MaximumAllowed | secdesc.Delete, share: accessAll, wantError: true},
		{name: "read attributes through parent's FILE_LIST_DIRECTORY", parent: dacl(allow(0, secdesc.FileReadData, secdesc.Everyone)),
			file: dacl(allow(0, secdesc.FileWriteData, secdesc.Everyone)), owner: "bob",
			desired: secdesc.FileReadAttributes, share: secdesc.FileReadAttributes, wantAcc: secdesc.FileReadAttributes},
		{name: "read attributes refused by file and parent", parent: dacl(allow(0, secdesc.FileAllAccess&^secdesc.FileReadData, secdesc.Everyone)),
			file: dacl(allow(0, secdesc.FileWriteData, secdesc.Everyone)), owner: "bob",
			desired: secdesc.FileReadAttributes | secdesc.FileWriteData, share: secdesc.FileReadAttributes | secdesc.FileWriteData, wantError: true},
		{name: "delete through mapped parent", file: dacl(allow(0, read, secdesc.Everyone)), owner: "bob",
			desired: secdesc.Delete, share: secdesc.Delete, wantAcc: secdesc.Delete},
		{name: "delete through parent's DELETE_CHILD", parent: dacl(allow(0, secdesc.FileDeleteChild, secdesc.Everyone)),
			file: dacl(allow(0, read, secdesc.Everyone)), owner: "bob",
			desired: secdesc.Delete | secdesc.FileReadData, share: secdesc.Delete | secdesc.FileReadData, wantAcc: secdesc.Delete | secdesc.FileReadData},
		{name: "delete refused by file and parent", parent: noDeleteChild,
			file: dacl(allow(0, read, secdesc.Everyone)), owner: "bob",
			desired: secdesc.Delete, share: secdesc.Delete, wantError: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSecEnv(t)
			dir := e.create(e.alice, "d", true)
			if tc.parent != nil {
				p := tc.parent.Clone()
				p.Owner = e.bobSID
				if err := storeSD(dir.f, p); err != nil {
					t.Fatal(err)
				}
			}
			o := e.create(e.alice, "d/f", false)
			if tc.file != nil {
				f := tc.file.Clone()
				f.Owner = map[string]secdesc.SID{"alice": e.aliceSID, "bob": e.bobSID}[tc.owner]
				if err := storeSD(o.f, f); err != nil {
					t.Fatal(err)
				}
			}
			got, err := e.alice.checkAccess(o.f, "d/f", wire.FileOpen, tc.desired, tc.share)
			switch {
			case tc.wantError && !errors.Is(err, wire.StatusAccessDenied):
				t.Errorf("got %#x, %v; want STATUS_ACCESS_DENIED", got, err)
			case !tc.wantError && (err != nil || got != tc.wantAcc):
				t.Errorf("got %#x, %v; want %#x", got, err, tc.wantAcc)
			}
		})
	}
}

func TestCheckAccessOverwrite(t *testing.T) {
	e := newSecEnv(t)
	o := e.create(e.alice, "f", false)
	e.set(e.alice, o, secdesc.DACLSecurityInformation, dacl(allow(0, secdesc.FileReadData, e.aliceSID)))
	tests := []struct {
		disp uint32
		ok   bool
	}{
		{wire.FileOpen, true},
		{wire.FileOpenIf, true},
		{wire.FileSupersede, false},
		{wire.FileOverwrite, false},
		{wire.FileOverwriteIf, false},
	}
	for _, tc := range tests {
		_, err := e.alice.checkAccess(o.f, "f", tc.disp, secdesc.FileReadData, secdesc.FileReadData)
		if tc.ok != (err == nil) {
			t.Errorf("disposition %d with only FILE_READ_DATA granted: %v", tc.disp, err)
		}
	}
	e.set(e.alice, o, secdesc.DACLSecurityInformation, dacl(allow(0, secdesc.FileReadData|secdesc.FileWriteData, e.aliceSID)))
	if _, err := e.alice.checkAccess(o.f, "f", wire.FileOverwriteIf, secdesc.FileReadData, secdesc.FileReadData); err != nil {
		t.Errorf("overwrite with FILE_WRITE_DATA granted: %v", err)
	}
}

func TestCheckCreate(t *testing.T) {
	e := newSecEnv(t)
	if err := e.alice.checkCreate("top.txt", false); err != nil {
		t.Errorf("create in the mapped share root: %v", err)
	}
	dir := e.create(e.alice, "d", true)
	if err := e.alice.checkCreate("d/x", false); err != nil {
		t.Errorf("create in a mapped directory: %v", err)
	}
	if err := e.alice.checkCreate("gone/x", false); !errors.Is(err, vfs.ErrPathNotFound) {
		t.Errorf("create in a missing directory: %v, want vfs.ErrPathNotFound", err)
	}
	// Files may be added, subdirectories not; bob may do neither.
	e.set(e.alice, dir, secdesc.DACLSecurityInformation,
		dacl(allow(0, secdesc.FileAddFile|secdesc.ReadControl, e.aliceSID)))
	if err := e.alice.checkCreate("d/x", false); err != nil {
		t.Errorf("FILE_ADD_FILE granted, create file: %v", err)
	}
	if err := e.alice.checkCreate("d/sub", true); !errors.Is(err, wire.StatusAccessDenied) {
		t.Errorf("FILE_ADD_SUBDIRECTORY not granted, mkdir: %v", err)
	}
	if err := e.bob.checkCreate("d/x", false); !errors.Is(err, wire.StatusAccessDenied) {
		t.Errorf("bob, not granted, create file: %v", err)
	}
}

func TestInheritSecurity(t *testing.T) {
	e := newSecEnv(t)
	dir := e.create(e.alice, "d", true)

	// Mapped parent, no SD context: nothing is stored.
	plain := e.create(e.bob, "d/plain", false)
	if err := e.bob.inheritSecurity(plain, nil); err != nil {
		t.Fatal(err)
	}
	if sd, err := loadSD(plain.f); sd != nil || err != nil {
		t.Errorf("file in a mapped directory got a descriptor: %+v %v", sd, err)
	}

	// Mapped parent, SD context without a DACL: owner and a default DACL.
	ctx := e.create(e.bob, "d/ctx", false)
	if err := e.bob.inheritSecurity(ctx, (&secdesc.Descriptor{}).Bytes()); err != nil {
		t.Fatal(err)
	}
	d := e.get(e.bob, ctx, secdesc.AllSecurityInformation)
	if d.Owner != e.bobSID || d.DACL == nil || len(d.DACL.ACEs) == 0 || d.DACL.ACEs[0].SID != e.bobSID {
		t.Errorf("empty SD context: owner %s DACL %+v", d.Owner, d.DACL)
	}
	bad := e.create(e.bob, "d/bad", false)
	if err := e.bob.inheritSecurity(bad, []byte{2}); !errors.Is(err, wire.StatusInvalidSecurityDescr) {
		t.Errorf("garbage SD context: %v", err)
	}

	// Stored parent: files and subdirectories inherit, CREATOR OWNER
	// becoming the creator.
	e.set(e.alice, dir, secdesc.DACLSecurityInformation, dacl(
		allow(secdesc.ObjectInherit|secdesc.ContainerInherit, secdesc.FileAllAccess, e.aliceSID),
		allow(secdesc.ObjectInherit|secdesc.ContainerInherit|secdesc.InheritOnly, secdesc.GenericAll, secdesc.CreatorOwner),
	))
	f := e.create(e.bob, "d/f", false)
	if err := e.bob.inheritSecurity(f, nil); err != nil {
		t.Fatal(err)
	}
	d = e.get(e.bob, f, secdesc.AllSecurityInformation)
	// The parent's DACL is not auto-inherited: no INHERITED flags.
	want := []secdesc.ACE{
		allow(0, secdesc.FileAllAccess, e.aliceSID),
		allow(0, secdesc.FileAllAccess, e.bobSID),
	}
	if d.Owner != e.bobSID || d.DACL == nil || len(d.DACL.ACEs) != len(want) {
		t.Fatalf("inherited file: owner %s DACL %+v", d.Owner, d.DACL)
	}
	for i := range want {
		if a := d.DACL.ACEs[i]; a.Flags != want[i].Flags || a.Mask != want[i].Mask || a.SID != want[i].SID {
			t.Errorf("inherited file ACE %d: %+v, want %+v", i, a, want[i])
		}
	}
	sub := e.create(e.bob, "d/sub", true)
	if err := e.bob.inheritSecurity(sub, nil); err != nil {
		t.Fatal(err)
	}
	if d := e.get(e.bob, sub, secdesc.DACLSecurityInformation); d.DACL == nil || len(d.DACL.ACEs) != 3 {
		t.Errorf("inherited directory DACL: %+v", d.DACL)
	}
	// Alice may open bob's new file through the inherited ACE, and bob
	// through the one CREATOR OWNER gave him.
	for _, r := range []*request{e.alice, e.bob} {
		if _, err := r.checkAccess(f.f, "d/f", wire.FileOpen, secdesc.FileWriteData, secdesc.FileWriteData); err != nil {
			t.Errorf("%s writing the inherited file: %v", r.sess.user, err)
		}
	}
}

func TestStreamSecurity(t *testing.T) {
	e := newSecEnv(t)
	base := e.create(e.alice, "f", false)
	data := e.create(e.alice, "stream-data", false) // where the stream's bytes live
	st := &open{tree: e.alice.tree, sess: e.alice.sess, conn: e.alice.c, f: data.f, rel: "stream-data", name: "f:s",
		stream: "s", baseRel: "f"}

	// Setting through the stream handle stores on the base file.
	e.set(e.alice, st, secdesc.DACLSecurityInformation, dacl(allow(0, secdesc.FileGenericRead, e.aliceSID)))
	if d, err := loadSD(base.f); err != nil || d == nil || len(d.DACL.ACEs) != 1 {
		t.Fatalf("base descriptor after a set through its stream: %+v %v", d, err)
	}
	if d, _ := loadSD(data.f); d != nil {
		t.Errorf("stream data file got a descriptor of its own")
	}
	if d := e.get(e.bob, st, secdesc.DACLSecurityInformation); len(d.DACL.ACEs) != 1 || d.DACL.ACEs[0].Mask != secdesc.FileGenericRead {
		t.Errorf("stream handle reads %+v, want the base's DACL", d.DACL)
	}
	if got := e.alice.maximalAccess(st, accessAll); got != secdesc.FileGenericRead|secdesc.WriteDAC|secdesc.Delete {
		t.Errorf("MxAc of the stream = %#x, want what the base grants", got)
	}
	if got := e.bob.maximalAccess(st, accessAll); got != secdesc.Delete|secdesc.FileReadAttributes {
		t.Errorf("bob's MxAc of the stream = %#x, want DELETE|READ_ATTRIBUTES (from the mapped parent)", got)
	}
	if err := e.alice.inheritSecurity(st, (&secdesc.Descriptor{}).Bytes()); err != nil {
		t.Errorf("inheritSecurity on a stream: %v", err)
	}

	tests := []struct {
		name    string
		r       *request
		disp    uint32
		desired uint32
		want    uint32
		denied  bool
	}{
		{"read", e.alice, wire.FileOpen, secdesc.FileReadData, ^uint32(0), false},
		{"write", e.alice, wire.FileOpen, secdesc.FileWriteData, 0, true},
		{"overwrite", e.alice, wire.FileOverwriteIf, secdesc.FileReadData, 0, true},
		{"maximum allowed", e.alice, wire.FileOpen, secdesc.MaximumAllowed,
			secdesc.FileGenericRead | secdesc.WriteDAC | secdesc.Delete, false},
		{"bob", e.bob, wire.FileOpen, secdesc.FileReadData, 0, true},
	}
	for _, tc := range tests {
		got, err := tc.r.checkStreamAccess("f", tc.disp, tc.desired)
		switch {
		case tc.denied && !errors.Is(err, wire.StatusAccessDenied):
			t.Errorf("%s: %#x, %v; want STATUS_ACCESS_DENIED", tc.name, got, err)
		case !tc.denied && (err != nil || got != tc.want):
			t.Errorf("%s: %#x, %v; want %#x", tc.name, got, err, tc.want)
		}
	}
}

func TestTokens(t *testing.T) {
	e := newSecEnv(t)
	if got := e.alice.token(); got.User != e.aliceSID || !got.Has(secdesc.AuthenticatedUsers) || !got.Has(secdesc.Everyone) {
		t.Errorf("alice's token: %+v", got)
	}
	e.bob.sess.guest = true
	if got := e.bob.token(); got.User == e.bobSID || got.Has(secdesc.AuthenticatedUsers) || !got.Has(secdesc.Everyone) {
		t.Errorf("guest token: %+v", got)
	}
	e.bob.sess.user = ""
	if got := e.bob.token(); got.User != secdesc.Anonymous {
		t.Errorf("anonymous token: %+v", got)
	}
}

// TestSmbcaclsInterop drives Samba's smbcacls (and smbclient) against a
// real server in a network namespace of its own, where it can listen on
// port 445 (smbcacls cannot be told another port). It needs root (or
// CAP_SYS_ADMIN) and the smbclient package; without them it is skipped.
func TestSmbcaclsInterop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and runs smbcacls")
	}
	for _, bin := range []string{"smbcacls", "smbclient", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (Debian: smbclient, iproute2)", bin)
		}
	}
	// The namespace belongs to this thread; the thread dies with the test
	// goroutine because it is never unlocked.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Skipf("no network namespace: %v", err)
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Skipf("ip link set lo up: %v %s", err, out)
	}
	dir := t.TempDir()
	if err := unix.Setxattr(dir, "user.shoal.probe", []byte{1}, 0); err != nil {
		t.Skipf("no user xattrs on %s: %v", dir, err)
	}
	if err := os.WriteFile(dir+"/f.txt", []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:445"
	cfg.Signing = "enabled"
	cfg.Shares = []ShareConfig{{Name: "data", Path: dir}}
	cfg.Users = testUsers{"alice": auth.NTHash("Alice-pw1"), "bob": auth.NTHash("Bob-pw1")}
	cfg.Node = "sec"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})

	dom := secdesc.DomainSID(cfg.ServerName)
	alice := secdesc.UserSID(dom, "alice").String()
	bob := secdesc.UserSID(dom, "bob").String()
	cacls := func(user, file string, args ...string) (string, error) {
		pw := map[string]string{"alice": "Alice-pw1", "bob": "Bob-pw1"}[user]
		args = append([]string{"//127.0.0.1/data", file, "--numeric", "-U", user + "%" + pw}, args...)
		out, err := exec.Command("smbcacls", args...).CombinedOutput()
		return string(out), err
	}
	mustCacls := func(user, file string, args ...string) string {
		t.Helper()
		out, err := cacls(user, file, args...)
		if err != nil {
			t.Fatalf("smbcacls %s %v: %v\n%s", file, args, err, out)
		}
		return out
	}

	// A mapped file: each user sees himself as the owner.
	if out := mustCacls("alice", "f.txt"); !strings.Contains(out, "OWNER:"+alice) {
		t.Errorf("alice's view of a mapped file:\n%s", out)
	}
	if out := mustCacls("bob", "f.txt"); !strings.Contains(out, "OWNER:"+bob) {
		t.Errorf("bob's view of a mapped file:\n%s", out)
	}

	// -S replaces the DACL (sent as ACL_REVISION3); the owner stays alice's.
	mustCacls("alice", "f.txt", "-S", "ACL:"+alice+":ALLOWED/0x0/0x001f01ff,ACL:S-1-5-11:ALLOWED/0x0/0x00120089")
	out := mustCacls("bob", "f.txt")
	for _, want := range []string{"OWNER:" + alice, "ACL:" + alice + ":0/0x0/0x001f01ff", "ACL:S-1-5-11:0/0x0/0x00120089"} {
		if !strings.Contains(out, want) {
			t.Errorf("after -S, bob reads no %q in:\n%s", want, out)
		}
	}
	if strings.Count(out, "ACL:") != 2 {
		t.Errorf("after -S, want exactly two ACEs:\n%s", out)
	}

	// -a adds an ACE; -D deletes one; the rest is kept.
	mustCacls("alice", "f.txt", "-a", "ACL:"+bob+":DENIED/0x0/0x00000002")
	if out := mustCacls("alice", "f.txt"); !strings.Contains(out, "ACL:"+bob+":1/0x0/0x00000002") || strings.Count(out, "ACL:") != 3 {
		t.Errorf("after -a:\n%s", out)
	}
	mustCacls("alice", "f.txt", "-D", "ACL:S-1-5-11:ALLOWED/0x0/0x00120089")
	if out := mustCacls("alice", "f.txt"); strings.Contains(out, "S-1-5-11") || strings.Count(out, "ACL:") != 2 {
		t.Errorf("after -D:\n%s", out)
	}

	// -C changes only the owner.
	mustCacls("alice", "f.txt", "-C", bob)
	if out := mustCacls("alice", "f.txt"); !strings.Contains(out, "OWNER:"+bob) || strings.Count(out, "ACL:") != 2 {
		t.Errorf("after -C:\n%s", out)
	}

}

// testUsers is an auth.Users of fixed NT hashes.
type testUsers map[string][16]byte

func (u testUsers) NTHash(user string) ([16]byte, bool) {
	h, ok := u[strings.ToLower(user)]
	return h, ok
}
