package smbnode

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"shoal/lockdb/table"
	"shoal/smbnode/dcerpc"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// Generic access rights mapped to file rights (MS-SMB2 3.3.5.9, MS-DTYP 2.4.3).
const (
	fileGenericRead    = 0x00120089
	fileGenericWrite   = 0x00120116
	fileGenericExecute = 0x001200A0
	// writeAccess are the rights a read-only file or share refuses.
	writeAccess = wire.FileWriteData | wire.FileAppendData | wire.FileWriteEA | wire.FileWriteAttributes | wire.FileDeleteChild
	// validAccess is every bit a client may ask for.
	validAccess = 0x001F01FF | wire.AccessSystemSecurity | wire.MaximumAllowed | wire.GenericAll | wire.GenericExecute | wire.GenericWrite | wire.GenericRead
)

// Create options a server must refuse (3.3.5.9).
const invalidCreateOptions = 0xFF000000

func mapGeneric(a uint32) uint32 {
	if a&wire.GenericRead != 0 {
		a |= fileGenericRead
	}
	if a&wire.GenericWrite != 0 {
		a |= fileGenericWrite
	}
	if a&wire.GenericExecute != 0 {
		a |= fileGenericExecute
	}
	if a&wire.GenericAll != 0 {
		a |= wire.FileAllAccess
	}
	return a &^ (wire.GenericRead | wire.GenericWrite | wire.GenericExecute | wire.GenericAll)
}

// handleCreate is SMB2 CREATE (MS-SMB2 3.3.5.9).
func handleCreate(ctx context.Context, r *request) error {
	req, err := wire.ParseCreateRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	r.chain.haveFileID = false
	dr, reconnect, durableID, createGUID, err := r.durableContexts(req)
	if err != nil {
		return err
	}
	if reconnect {
		// Every other field of the request is ignored (3.3.5.9.7).
		return r.reconnectDurable(ctx, req, durableID, createGUID)
	}
	alloc, err := allocationSize(req)
	if err != nil {
		return err
	}
	if req.ImpersonationLevel > wire.ImpersonationDelegate {
		return statusBadImpersonationLevel
	}
	if req.CreateDisposition > wire.FileOverwriteIf {
		return wire.StatusInvalidParameter
	}
	if req.CreateOptions&invalidCreateOptions != 0 ||
		req.CreateOptions&wire.FileDirectoryFile != 0 && req.CreateOptions&wire.FileNonDirectoryFile != 0 {
		return wire.StatusInvalidParameter
	}
	if req.DesiredAccess&^validAccess != 0 || req.DesiredAccess == 0 && false {
		return wire.StatusAccessDenied
	}
	if req.FileAttributes&^0x7FFF != 0 && req.FileAttributes&^0x3FFF7 != 0 {
		return wire.StatusInvalidParameter
	}
	if r.tree.share.ipc {
		return r.createPipe(req)
	}
	if strings.HasPrefix(req.Name, `\`) || strings.HasPrefix(req.Name, `/`) {
		return wire.StatusInvalidParameter // 3.3.5.9: no leading separator
	}
	if req.CreateOptions&wire.FileOpenByFileID != 0 {
		return wire.StatusNotSupported
	}
	if isStreamsDir(req.Name) {
		return wire.StatusObjectNameNotFound
	}
	base, stream, err := splitStream(req.Name)
	if err != nil {
		return err
	}
	if stream == "" && len(base) < len(req.Name) {
		if err := r.checkDataStream(req, base); err != nil {
			return err
		}
	}
	if stream == "" {
		if err := r.checkStreamsForDelete(ctx, req, base); err != nil {
			return err
		}
	}
	var o *open
	var action uint32
	var fresh *vfs.Info // the open file's Info, read after it was opened
	if stream != "" {
		o, action, err = r.createStream(ctx, req, base, stream)
	} else {
		req.Name = base
		o, action, fresh, err = r.openFileLive(ctx, req)
	}
	if err != nil {
		return err
	}
	if alloc > 0 && !o.isDir && action != wire.FileOpened {
		preallocate(o.f, alloc)
	}
	if c := req.Context(wire.CreateContextEABuffer); c != nil && o.f != nil && action != wire.FileOpened {
		if err := writeEAs(int(o.f.Fd()), c.Data); err != nil {
			r.c.closeOpen(ctx, o)
			return err
		}
	}
	if action == wire.FileCreated {
		var sd []byte
		if c := req.Context(wire.CreateContextSDBuffer); c != nil {
			sd = c.Data
		}
		if err := r.inheritSecurity(o, sd); err != nil {
			r.c.closeOpen(ctx, o)
			return err
		}
	}
	var info vfs.Info
	if fresh != nil && action == wire.FileOpened {
		info = *fresh // nothing above changes an opened file
	} else if info, err = vfs.StatFile(o.f); err != nil {
		r.c.closeOpen(ctx, o)
		return err
	}
	o.mu.Lock() // a break may already be changing the open's caching
	oplock := o.oplock
	o.mu.Unlock()
	resp := &wire.CreateResponse{
		OplockLevel:    oplock,
		CreateAction:   action,
		CreationTime:   wire.Filetime(info.CreationTime),
		LastAccessTime: wire.Filetime(info.LastAccessTime),
		LastWriteTime:  wire.Filetime(info.LastWriteTime),
		ChangeTime:     wire.Filetime(info.ChangeTime),
		AllocationSize: info.AllocationSize,
		EndOfFile:      info.Size,
		FileAttributes: info.Attributes,
		FileID:         o.fileID(),
	}
	if info.IsDir {
		resp.AllocationSize, resp.EndOfFile = 0, 0
	}
	resp.Contexts = r.createContextResponses(req, o, info)
	if c := r.grantDurable(dr, o); c != nil {
		resp.Contexts = append(resp.Contexts, *c)
	}
	r.chain.fileID, r.chain.haveFileID = o.fileID(), true
	r.out = resp.Append(r.out)
	if action == wire.FileCreated {
		r.c.srv.notifyChange(o.tree.share, o.rel, notifyAdded, o.isDir)
	}
	return nil
}

// statusBadImpersonationLevel is STATUS_BAD_IMPERSONATION_LEVEL.
const statusBadImpersonationLevel wire.Status = 0xC00000A5

// openFile opens or creates the file or directory req names and records
// the open in the lock database.
func (r *request) openFile(ctx context.Context, req *wire.CreateRequest) (*open, uint32, error) {
	t := r.tree
	fs := t.share.fs
	rel, info, err := fs.ResolveStat(req.Name)
	exists := err == nil
	if errors.Is(err, vfs.ErrNotExist) {
		err = nil
	}
	if err != nil {
		return nil, 0, err
	}
	disp := req.CreateDisposition
	opts := req.CreateOptions
	if rel == "" && (disp == wire.FileCreate || opts&wire.FileNonDirectoryFile != 0) {
		// The share root always exists and is a directory.
		if disp == wire.FileCreate {
			return nil, 0, wire.StatusObjectNameCollision
		}
		return nil, 0, wire.StatusFileIsADirectory
	}
	if r.leaseKeyConflict(req, exists, info) {
		return nil, 0, wire.StatusInvalidParameter
	}
	access := mapGeneric(req.DesiredAccess)
	wantDir := opts&wire.FileDirectoryFile != 0
	if exists {
		switch {
		case disp == wire.FileCreate:
			return nil, 0, wire.StatusObjectNameCollision
		case info.IsDir && opts&wire.FileNonDirectoryFile != 0:
			return nil, 0, wire.StatusFileIsADirectory
		case !info.IsDir && wantDir:
			return nil, 0, wire.StatusNotADirectory
		case info.IsDir && (disp == wire.FileOverwrite || disp == wire.FileOverwriteIf || disp == wire.FileSupersede):
			return nil, 0, wire.StatusInvalidParameter
		}
	} else {
		if disp == wire.FileOpen || disp == wire.FileOverwrite {
			return nil, 0, wire.StatusObjectNameNotFound
		}
		if wantDir && disp != wire.FileCreate && disp != wire.FileOpenIf {
			return nil, 0, wire.StatusInvalidParameter
		}
	}
	readOnlyFile := exists && !info.IsDir && info.Attributes&wire.FileAttributeReadonly != 0
	if access&wire.MaximumAllowed != 0 {
		access = access&^wire.MaximumAllowed | t.maxAccess
		if readOnlyFile {
			access &^= writeAccess
		}
	}
	if access&wire.AccessSystemSecurity != 0 {
		return nil, 0, statusPrivilegeNotHeld
	}
	if t.readOnly && (access&(writeAccess|wire.Delete) != 0 || !exists || disp != wire.FileOpen && disp != wire.FileOpenIf) {
		return nil, 0, wire.StatusAccessDenied
	}
	if readOnlyFile && (access&(wire.FileWriteData|wire.FileAppendData) != 0 || disp == wire.FileOverwrite || disp == wire.FileOverwriteIf || disp == wire.FileSupersede) {
		return nil, 0, wire.StatusAccessDenied
	}
	if opts&wire.FileDeleteOnClose != 0 {
		if access&wire.Delete == 0 {
			return nil, 0, wire.StatusInvalidParameter
		}
		if readOnlyFile || !exists && req.FileAttributes&wire.FileAttributeReadonly != 0 {
			return nil, 0, wire.StatusCannotDelete
		}
	}

	// Open or create on disk.
	var f *os.File
	action := wire.FileOpened
	created := false
	if !exists {
		if err := r.checkCreate(rel, wantDir); err != nil {
			return nil, 0, err
		}
		if wantDir {
			err = fs.Mkdir(rel)
			if err == nil {
				f, err = fs.OpenFile(rel, os.O_RDONLY, 0)
			}
		} else {
			f, err = fs.OpenFile(rel, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		}
		if errors.Is(err, vfs.ErrExist) && disp != wire.FileCreate {
			// Lost a race with another creator: open what is there.
			return r.openFile(ctx, req)
		}
		if err != nil {
			return nil, 0, err
		}
		created = true
		action = wire.FileCreated
		if id, err := vfs.StatIdentity(f); err == nil && !wantDir {
			removeStreams(fs, id.FileID) // left by an old file with this inode number
		}
		attrs := req.FileAttributes &^ (wire.FileAttributeDirectory | wire.FileAttributeNormal)
		if !wantDir {
			attrs |= wire.FileAttributeArchive
		}
		if attrs != 0 {
			if err := fs.SetAttributes(f, attrs); err != nil && !errors.Is(err, vfs.ErrNotSupported) {
				r.c.log.Debug("setting attributes on create", "err", err)
			}
		}
	} else {
		flag := os.O_RDONLY
		if !info.IsDir && !t.readOnly && (access&(wire.FileWriteData|wire.FileAppendData) != 0 || disp == wire.FileOverwrite || disp == wire.FileOverwriteIf || disp == wire.FileSupersede) {
			flag = os.O_RDWR
		}
		f, err = fs.OpenFile(rel, flag, 0)
		if err != nil {
			return nil, 0, err
		}
		if access, err = r.checkAccess(f, rel, disp, req.DesiredAccess, access); err != nil {
			f.Close()
			return nil, 0, err
		}
	}
	undo := func() {
		f.Close()
		if created {
			fs.Remove(rel)
		}
	}
	st, err := vfs.StatIdentity(f)
	if err != nil {
		undo()
		return nil, 0, err
	}
	o := &open{
		id:            r.c.srv.nextOpenID.Add(1),
		tree:          t,
		sess:          r.sess,
		conn:          r.c,
		f:             f,
		isDir:         st.IsDir,
		access:        access,
		shareAccess:   req.ShareAccess,
		createOptions: opts,
		rel:           rel,
		name:          req.Name,
		created:       time.Now(),
		key:           table.Key{Share: t.share.cfg.Name, Inode: st.FileID},
	}
	o.oid = table.OpenID{Node: r.c.srv.cfg.Node, ID: o.id}
	rec := table.Open{
		ID:            o.oid,
		Session:       r.sess.id,
		Access:        access,
		ShareAccess:   req.ShareAccess,
		DeleteOnClose: opts&wire.FileDeleteOnClose != 0,
		Oplock:        req.RequestedOplockLevel,
		Path:          rel,
		User:          r.sess.user,
	}
	if o.isDir {
		// No oplocks on directories, and no leases either: Shoal does
		// not offer directory leasing (smb2.lease.request).
		rec.Oplock = wire.OplockLevelNone
	}
	var lease *wire.Lease
	if rec.Oplock == wire.OplockLevelLease {
		if c := req.Context(wire.CreateContextRequestLease); c != nil {
			lease, _ = wire.ParseLease(c.Data)
		}
		if lease == nil {
			rec.Oplock = wire.OplockLevelNone
		} else {
			r.c.mu.Lock()
			rec.ClientGUID = r.c.clientGUID
			r.c.mu.Unlock()
			rec.LeaseKey = lease.LeaseKey
			rec.ParentLeaseKey = lease.ParentLeaseKey
			rec.LeaseVersion = lease.Version
			rec.LeaseState = lease.LeaseState
			rec.LeaseEpoch = lease.Epoch
		}
	}
	rec.Durable, rec.CreateGUID = r.durableRecord(req, o.isDir, &rec)
	if exists && table.IsOplockStatOpen(access) && (disp == wire.FileOverwrite || disp == wire.FileOverwriteIf || disp == wire.FileSupersede) {
		// A stat open neither breaks nor waits for caching, but its
		// truncate breaks what the others cache (Samba; smb2.oplock.batch13).
		r.c.srv.locker.ContendLevel2(ctx, o.key, o.oid)
	}
	pc := &pendingCreate{r: r}
	res, err := r.c.srv.locker.OpenFile(withPendingCreate(ctx, pc), o.key, rec, disp)
	pc.finish()
	if err != nil {
		undo()
		return nil, 0, err
	}
	o.oplock = res.Oplock
	if rec.Oplock == wire.OplockLevelLease {
		o.leaseKey, o.leaseVer, o.leaseState = rec.LeaseKey, rec.LeaseVersion, res.LeaseState
		o.leaseEpoch, o.leaseBreaking = res.LeaseEpoch, res.LeaseBreaking
		if res.LeaseVersion != 0 {
			o.leaseVer = res.LeaseVersion // the lease's, not this request's
		}
	}
	o.deleteOnClose = rec.DeleteOnClose
	if exists && (disp == wire.FileOverwrite || disp == wire.FileOverwriteIf || disp == wire.FileSupersede) {
		if err := fs.Truncate(f, 0); err != nil {
			r.c.srv.locker.CloseFile(ctx, o.key, o.oid)
			f.Close()
			return nil, 0, err
		}
		attrs := req.FileAttributes&^(wire.FileAttributeDirectory|wire.FileAttributeNormal) | wire.FileAttributeArchive
		fs.SetAttributes(f, attrs)
		action = wire.FileOverwritten
		if disp == wire.FileSupersede {
			action = wire.FileSuperseded
		}
	}
	r.c.registerOpen(o)
	return o, action, nil
}

// allocationSize reads the AllocationSize create context (MS-SMB2
// 2.2.13.2.6): 8 bytes or STATUS_INVALID_PARAMETER; 0 when absent.
func allocationSize(req *wire.CreateRequest) (uint64, error) {
	c := req.Context(wire.CreateContextAllocationSize)
	if c == nil {
		return 0, nil
	}
	if len(c.Data) != 8 {
		return 0, wire.StatusInvalidParameter
	}
	return binary.LittleEndian.Uint64(c.Data), nil
}

// preallocate reserves the initial allocation of a created or overwritten
// file without changing its size, as Samba does with "strict allocate = no"
// (fallocate KEEP_SIZE). A filesystem without fallocate keeps the file
// sparse: the allocation is a hint.
func preallocate(f *os.File, size uint64) {
	if size > 1<<40 {
		return
	}
	unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, int64(size))
}

// statusPrivilegeNotHeld is STATUS_PRIVILEGE_NOT_HELD.
const statusPrivilegeNotHeld wire.Status = 0xC0000061

// createContextResponses answers the create contexts Shoal supports.
func (r *request) createContextResponses(req *wire.CreateRequest, o *open, info vfs.Info) []wire.CreateContext {
	var out []wire.CreateContext
	if c := req.Context(wire.CreateContextQueryMaximalAccess); c != nil {
		ma := o.tree.maxAccess
		if !info.IsDir && info.Attributes&wire.FileAttributeReadonly != 0 {
			ma &^= writeAccess
		}
		ma = r.maximalAccess(o, ma)
		out = append(out, wire.CreateContext{Name: wire.CreateContextQueryMaximalAccess,
			Data: (&wire.MaximalAccessResponse{MaximalAccess: ma}).Append(nil)})
	}
	if c := req.Context(wire.CreateContextQueryOnDiskID); c != nil {
		out = append(out, wire.CreateContext{Name: wire.CreateContextQueryOnDiskID,
			Data: (&wire.QueryOnDiskIDResponse{DiskFileID: info.FileID, VolumeID: o.tree.share.volumeID()}).Append(nil)})
	}
	o.mu.Lock()
	leased := o.oplock == wire.OplockLevelLease
	l := &wire.Lease{Version: o.leaseVer, LeaseKey: o.leaseKey, LeaseState: o.leaseState}
	o.mu.Unlock()
	if leased {
		if c := req.Context(wire.CreateContextRequestLease); c != nil {
			if rq, err := wire.ParseLease(c.Data); err == nil {
				l.ParentLeaseKey = rq.ParentLeaseKey
				if rq.LeaseFlags&wire.LeaseFlagParentLeaseKeySet != 0 && l.Version == 2 {
					l.LeaseFlags |= wire.LeaseFlagParentLeaseKeySet
				}
			}
		}
		l.Epoch = o.leaseEpoch
		if o.leaseBreaking {
			l.LeaseFlags |= wire.LeaseFlagBreakInProgress
		}
		out = append(out, wire.CreateContext{Name: wire.CreateContextRequestLease, Data: l.Append(nil)})
	}
	return out
}

// createPipe opens a named pipe on IPC$.
func (r *request) createPipe(req *wire.CreateRequest) error {
	name := strings.TrimPrefix(strings.ToLower(req.Name), `\`)
	if !dcerpc.IsKnownPipe(name) {
		return wire.StatusObjectNameNotFound
	}
	p, err := dcerpc.NewPipe(name, r.sess.user, r.c.srv.rpcBackend())
	if err != nil {
		return wire.StatusObjectNameNotFound
	}
	o := &open{
		id:      r.c.srv.nextOpenID.Add(1),
		tree:    r.tree,
		sess:    r.sess,
		conn:    r.c,
		pipe:    p,
		access:  mapGeneric(req.DesiredAccess),
		name:    req.Name,
		created: time.Now(),
	}
	r.c.registerOpen(o)
	now := wire.Filetime(time.Now())
	resp := &wire.CreateResponse{
		CreateAction:   wire.FileOpened,
		CreationTime:   now,
		LastAccessTime: now,
		LastWriteTime:  now,
		ChangeTime:     now,
		AllocationSize: 4096,
		FileAttributes: wire.FileAttributeNormal,
		FileID:         o.fileID(),
	}
	r.chain.fileID, r.chain.haveFileID = o.fileID(), true
	r.out = resp.Append(r.out)
	return nil
}
