package smbnode

// Security descriptors of files and directories.
//
// A descriptor a client sets (SET_INFO, an SD create context) or that a
// new file inherits from a parent that has one is stored, self-relative,
// in the extended attribute user.shoal.sd of the file on the shared
// filesystem, so every node sees it. Such a file is "stored": its DACL
// decides every open (checkAccess), on top of what the share allows.
//
// A file without the attribute (created by Shoal in a directory that has
// none, or put there by other means) is "mapped": its descriptor is
// derived from owner and mode by vfs.SecurityDescriptor, with one twist:
// Shoal users are not Unix users, so the mapped owner is the user who
// asks (the S-1-22-1-<uid> owner, and its ACE, are shown as that user's
// SID). Opens of a mapped file are decided by the share alone, as before
// descriptors existed; the first SET_INFO stores the merged descriptor,
// so the user who first sets one becomes its owner unless the descriptor
// sent names another.
//
// Call sites: QUERY_INFO and SET_INFO (SMB2_0_INFO_SECURITY) call
// getSecurity and setSecurity. The create path calls checkCreate before
// creating a file or directory, checkAccess after opening an existing one
// (before share modes are decided and before any truncation),
// checkStreamAccess for a named stream (whose descriptor is its base
// file's), inheritSecurity once a create succeeded (with the SD create
// context, if any), and maximalAccess for the MxAc create context.
//
// Users map to S-1-5-21-<domain>-<rid> (secdesc.DomainSID of the server
// name, secdesc.UserSID of the user name): stable across nodes and
// restarts. A session's token is its user SID plus Everyone and
// Authenticated Users (guests: the domain's Guest and Everyone; anonymous:
// ANONYMOUS LOGON and Everyone).

import (
	"errors"
	"os"
	"path"

	"golang.org/x/sys/unix"

	"shoal/smbnode/secdesc"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// sdXattr holds a file's stored security descriptor (self-relative).
const sdXattr = "user.shoal.sd"

// maxSDSize bounds what is read back: two 64 KiB ACLs and four SIDs.
const maxSDSize = 2<<16 + 4*68 + 20

// token is the security token of the request's session.
func (r *request) token() *secdesc.Token {
	dom := secdesc.DomainSID(r.c.srv.cfg.ServerName)
	s := r.sess
	switch {
	case s.guest && s.user == "":
		return &secdesc.Token{User: secdesc.Anonymous, Groups: []secdesc.SID{secdesc.Everyone}}
	case s.guest:
		return &secdesc.Token{User: secdesc.DomainMember(dom, secdesc.RIDGuest), Groups: []secdesc.SID{secdesc.Everyone}}
	}
	return &secdesc.Token{
		User:   secdesc.UserSID(dom, s.user),
		Groups: []secdesc.SID{secdesc.Everyone, secdesc.AuthenticatedUsers},
	}
}

// primaryGroup is the group of descriptors this request's user creates:
// the domain's Domain Users.
func (r *request) primaryGroup() secdesc.SID {
	return secdesc.DomainMember(secdesc.DomainSID(r.c.srv.cfg.ServerName), secdesc.RIDDomainUsers)
}

// loadSD reads the stored descriptor of f: nil without one (or where the
// filesystem has no extended attributes). A stored descriptor that does
// not parse is an error: falling back to "mapped" would open the file
// to everyone.
func loadSD(f *os.File) (*secdesc.Descriptor, error) {
	buf := make([]byte, 4096)
	for {
		n, err := unix.Fgetxattr(int(f.Fd()), sdXattr, buf)
		switch {
		case errors.Is(err, unix.ERANGE) && len(buf) < maxSDSize:
			buf = make([]byte, maxSDSize)
			continue
		case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP):
			return nil, nil
		case err != nil:
			return nil, &os.PathError{Op: "getxattr", Path: f.Name(), Err: err}
		}
		return secdesc.Parse(buf[:n])
	}
}

// storeSD writes d as f's stored descriptor.
func storeSD(f *os.File, d *secdesc.Descriptor) error {
	err := unix.Fsetxattr(int(f.Fd()), sdXattr, d.Bytes(), 0)
	switch {
	case errors.Is(err, unix.ENOTSUP):
		return wire.StatusNotSupported
	case errors.Is(err, unix.E2BIG), errors.Is(err, unix.ENOSPC):
		return wire.StatusInsufficientResources
	case err != nil:
		return &os.PathError{Op: "setxattr", Path: f.Name(), Err: err}
	}
	return nil
}

// parentRel is the directory holding rel ("" for the share root, which
// has no parent: ok is false).
func parentRel(rel string) (dir string, ok bool) {
	if rel == "" {
		return "", false
	}
	dir = path.Dir(rel)
	if dir == "." {
		dir = ""
	}
	return dir, true
}

// loadParentSD reads the stored descriptor of the directory holding rel
// (nil when it has none, or rel is the share root).
func (r *request) loadParentSD(fs *vfs.Share, rel string) (*secdesc.Descriptor, error) {
	dir, ok := parentRel(rel)
	if !ok {
		return nil, nil
	}
	f, err := fs.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return loadSD(f)
}

// mappedSD is the descriptor of a file without a stored one: owner and
// mode as vfs.SecurityDescriptor maps them, the owner being the user who
// asks.
func (r *request) mappedSD(info vfs.Info) (*secdesc.Descriptor, error) {
	d, err := secdesc.Parse(vfs.SecurityDescriptor(info, secdesc.AllSecurityInformation))
	if err != nil {
		return nil, err
	}
	unixOwner := secdesc.NewSID(22, 1, info.UID)
	user := r.token().User
	if d.Owner == unixOwner {
		d.Owner = user
	}
	if d.DACL != nil {
		for i := range d.DACL.ACEs {
			if d.DACL.ACEs[i].SID == unixOwner {
				d.DACL.ACEs[i].SID = user
			}
		}
	}
	return d, nil
}

// sdFile is the file that carries o's descriptor: o's own, or for a
// named stream its base file's (opened here; done closes it).
func sdFile(o *open) (f *os.File, done func(), err error) {
	o.mu.Lock()
	base := o.baseRel
	isStream := o.stream != ""
	o.mu.Unlock()
	if !isStream {
		return o.f, func() {}, nil
	}
	f, err = o.fs().OpenFile(base, os.O_RDONLY, 0)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// effectiveSD is the stored descriptor of f (o's file or its stream's
// base), or its mapped one.
func (r *request) effectiveSD(o *open, f *os.File, info vfs.Info) (d *secdesc.Descriptor, stored bool, err error) {
	d, err = loadSD(f)
	if err != nil {
		r.c.log.Warn("unreadable security descriptor", "path", o.name, "err", err)
		return nil, false, wire.StatusInvalidSecurityDescr
	}
	if d != nil {
		return d, true, nil
	}
	d, err = r.mappedSD(info)
	return d, false, err
}

// getSecurity returns the descriptor of an open, restricted to the parts
// secInfo asks for (QUERY_INFO, SMB2_0_INFO_SECURITY).
func (r *request) getSecurity(o *open, info vfs.Info, secInfo uint32) ([]byte, error) {
	if o.f == nil {
		return nil, wire.StatusNotSupported
	}
	f, done, err := sdFile(o)
	if err != nil {
		return nil, err
	}
	defer done()
	if f != o.f {
		if info, err = vfs.StatFile(f); err != nil {
			return nil, err
		}
	}
	d, _, err := r.effectiveSD(o, f, info)
	if err != nil {
		return nil, err
	}
	return d.Filter(secInfo).Bytes(), nil
}

// setSecurity merges a descriptor set through SET_INFO into o's stored
// (or mapped) one, changing only the parts secInfo names, and stores the
// result. The caller has checked WRITE_OWNER / WRITE_DAC /
// ACCESS_SYSTEM_SECURITY on the open.
func (r *request) setSecurity(o *open, secInfo uint32, sd []byte) error {
	if o.f == nil {
		return wire.StatusNotSupported
	}
	in, err := secdesc.Parse(sd)
	if err != nil {
		r.c.log.Debug("refused security descriptor", "path", o.name, "err", err, "len", len(sd))
		return wire.StatusInvalidSecurityDescr
	}
	in.Canonicalize(secdesc.FileMapping)
	secInfo &= secdesc.AllSecurityInformation
	if secInfo == 0 {
		return nil
	}
	f, done, err := sdFile(o)
	if err != nil {
		return err
	}
	defer done()
	info, err := vfs.StatFile(f)
	if err != nil {
		return err
	}
	cur, _, err := r.effectiveSD(o, f, info)
	if err != nil {
		return err
	}
	return storeSD(f, secdesc.Merge(cur, in, secInfo))
}

// checkAccess decides an open of the existing file or directory f at rel
// with create disposition disp. desired is the client's DesiredAccess
// (generic rights and MAXIMUM_ALLOWED allowed); shareGranted is what the
// share-level rules already granted for it (with MAXIMUM_ALLOWED: the
// tree's maximal access less what a read-only file refuses). It returns
// the access the open gets, or STATUS_ACCESS_DENIED.
//
// A mapped file gets shareGranted unchanged. For a stored one the DACL
// must grant every right in shareGranted, and FILE_WRITE_DATA too when
// disp overwrites or supersedes the file. As in Windows, DELETE counts as
// granted when the parent directory grants FILE_DELETE_CHILD, and
// FILE_READ_ATTRIBUTES when it grants FILE_LIST_DIRECTORY (a parent
// without a stored descriptor grants both). With MAXIMUM_ALLOWED the open
// gets what the DACL and the share both grant, and is refused if that is
// nothing or lacks a right desired names explicitly.
func (r *request) checkAccess(f *os.File, rel string, disp, desired, shareGranted uint32) (uint32, error) {
	d, err := loadSD(f)
	if err != nil {
		r.c.log.Warn("unreadable security descriptor", "path", rel, "err", err)
		return 0, wire.StatusAccessDenied
	}
	if d == nil {
		return shareGranted, nil
	}
	tok := r.token()
	want := secdesc.FileMapping.Map(desired) &^ secdesc.AccessSystemSecurity
	allowed := secdesc.MaxAllowed(d, tok)
	const fromParent = secdesc.Delete | secdesc.FileReadAttributes
	if allowed&fromParent != fromParent {
		pmax, err := r.parentMaxAllowed(rel)
		if err != nil {
			return 0, err
		}
		if pmax&secdesc.FileDeleteChild != 0 {
			allowed |= secdesc.Delete
		}
		if pmax&secdesc.FileReadData != 0 { // FILE_LIST_DIRECTORY
			allowed |= secdesc.FileReadAttributes
		}
	}
	switch disp {
	case wire.FileOverwrite, wire.FileOverwriteIf, wire.FileSupersede:
		if allowed&secdesc.FileWriteData == 0 {
			return 0, wire.StatusAccessDenied
		}
	}
	sys := shareGranted & secdesc.AccessSystemSecurity
	if want&secdesc.MaximumAllowed != 0 {
		granted := allowed & shareGranted
		if granted == 0 || want&^secdesc.MaximumAllowed&^granted != 0 {
			return 0, wire.StatusAccessDenied
		}
		return granted | sys, nil
	}
	if shareGranted&^sys&^allowed != 0 {
		return 0, wire.StatusAccessDenied
	}
	return shareGranted, nil
}

// checkStreamAccess decides an open of a named stream of the file at
// baseRel by its base file's descriptor (a stream has none of its own):
// it refuses what checkAccess would refuse on the base for the same
// request. Otherwise it returns the mask the stream open's access must be
// cut down to: what the base grants when desired holds MAXIMUM_ALLOWED,
// every bit otherwise (the rights asked for are all granted).
func (r *request) checkStreamAccess(baseRel string, disp, desired uint32) (uint32, error) {
	f, err := r.tree.share.fs.OpenFile(baseRel, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	want := secdesc.FileMapping.Map(desired)
	if want&secdesc.MaximumAllowed == 0 {
		_, err := r.checkAccess(f, baseRel, disp, desired, want)
		return ^uint32(0), err
	}
	return r.checkAccess(f, baseRel, disp, desired, want&^secdesc.MaximumAllowed|secdesc.FileAllAccess)
}

// checkCreate decides whether this request may create rel: the parent
// directory must grant FILE_ADD_SUBDIRECTORY (isDir) or FILE_ADD_FILE. A
// parent without a stored descriptor grants both.
func (r *request) checkCreate(rel string, isDir bool) error {
	need := secdesc.FileAddFile
	if isDir {
		need = secdesc.FileAddSubdirectory
	}
	ok, err := r.parentGrants(rel, need)
	if err != nil {
		return err
	}
	if !ok {
		return wire.StatusAccessDenied
	}
	return nil
}

// parentGrants reports whether the directory holding rel grants every
// right in mask to this request's user.
func (r *request) parentGrants(rel string, mask uint32) (bool, error) {
	pmax, err := r.parentMaxAllowed(rel)
	return pmax&mask == mask, err
}

// parentMaxAllowed is every right the directory holding rel grants this
// request's user: everything when it has no stored descriptor, nothing
// for the share root (which has no parent) or when its descriptor cannot
// be read. A parent that is gone gives vfs.ErrPathNotFound.
func (r *request) parentMaxAllowed(rel string) (uint32, error) {
	if _, ok := parentRel(rel); !ok {
		return 0, nil
	}
	d, err := r.loadParentSD(r.tree.share.fs, rel)
	if errors.Is(err, vfs.ErrNotExist) || errors.Is(err, vfs.ErrPathNotFound) {
		return 0, vfs.ErrPathNotFound // removed under us
	}
	if err != nil {
		r.c.log.Warn("unreadable parent security descriptor", "path", rel, "err", err)
		return 0, nil
	}
	if d == nil {
		return secdesc.FileAllAccess, nil
	}
	return secdesc.MaxAllowed(d, r.token()), nil
}

// maximalAccess is what the MxAc create context reports for an open of
// o's file (for a stream: its base file): the share's maximal access
// (shareMax, less what a read-only file refuses), cut down to what a
// stored DACL grants; nothing when the descriptor cannot be read.
func (r *request) maximalAccess(o *open, shareMax uint32) uint32 {
	if o.f == nil {
		return shareMax
	}
	f, done, err := sdFile(o)
	if err != nil {
		return 0
	}
	defer done()
	o.mu.Lock()
	rel := o.rel
	if o.stream != "" {
		rel = o.baseRel
	}
	o.mu.Unlock()
	got, err := r.checkAccess(f, rel, wire.FileOpen, secdesc.MaximumAllowed, shareMax)
	if err != nil {
		return 0
	}
	return got
}

// inheritSecurity gives a file or directory this request has just created
// its stored descriptor: the one the client sent in an SD create context
// (sdBuf; nil for none), its missing parts filled in, or else the one it
// inherits from its parent's stored descriptor (secdesc.Inherit). With
// neither a context nor a stored parent descriptor nothing is stored and
// the file stays mapped. A context that does not parse gives
// STATUS_INVALID_SECURITY_DESCR; the caller undoes the create.
func (r *request) inheritSecurity(o *open, sdBuf []byte) error {
	o.mu.Lock()
	isStream := o.stream != ""
	o.mu.Unlock()
	if o.f == nil || isStream {
		return nil // a stream is covered by its base file's descriptor
	}
	var creator *secdesc.Descriptor
	if sdBuf != nil {
		var err error
		if creator, err = secdesc.Parse(sdBuf); err != nil {
			return wire.StatusInvalidSecurityDescr
		}
		creator.Canonicalize(secdesc.FileMapping)
	}
	rel, _ := o.path()
	parent, err := r.loadParentSD(o.fs(), rel)
	if err != nil {
		r.c.log.Warn("unreadable parent security descriptor", "path", rel, "err", err)
		parent = nil
	}
	if creator == nil && parent == nil {
		return nil
	}
	d := secdesc.Inherit(parent, creator, o.isDir, r.token().User, r.primaryGroup())
	err = storeSD(o.f, d)
	if errors.Is(err, wire.StatusNotSupported) && creator == nil {
		return nil // no xattrs here: the file stays mapped
	}
	return err
}
