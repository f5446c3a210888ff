package smbnode

import (
	"context"
	"errors"
	"io"
	"path"
	"strings"
	"time"

	"shoal/lockdb/table"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// handleSetInfo is SMB2 SET_INFO (MS-SMB2 3.3.5.21).
func handleSetInfo(ctx context.Context, r *request) error {
	req, err := wire.ParseSetInfoRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	if o.pipe != nil {
		return wire.StatusNotSupported
	}
	switch req.InfoType {
	case wire.InfoTypeFile:
		err = r.setFileInfo(ctx, o, req)
	case wire.InfoTypeSecurity:
		const ownerGroup, dacl, sacl = 0x1 | 0x2, 0x4, 0x8
		need := uint32(0)
		if req.AdditionalInformation&ownerGroup != 0 {
			need |= wire.WriteOwner
		}
		if req.AdditionalInformation&dacl != 0 {
			need |= wire.WriteDAC
		}
		if req.AdditionalInformation&sacl != 0 {
			need |= wire.AccessSystemSecurity
		}
		if o.access&need != need {
			return wire.StatusAccessDenied
		}
		err = r.setSecurity(o, req.AdditionalInformation, req.Buffer)
	case wire.InfoTypeFilesystem, wire.InfoTypeQuota:
		err = wire.StatusNotSupported
	default:
		err = wire.StatusInvalidParameter
	}
	if err != nil {
		return err
	}
	r.out = (&wire.SetInfoResponse{}).Append(r.out)
	return nil
}

// setFileInfo applies one SMB2_0_INFO_FILE class.
func (r *request) setFileInfo(ctx context.Context, o *open, req *wire.SetInfoRequest) error {
	v, err := wire.ParseSetFileInfo(req.InfoClass, req.Buffer)
	if errors.Is(err, wire.ErrUnknownInfoClass) {
		return wire.StatusInvalidInfoClass
	}
	if err != nil {
		return wire.StatusInfoLengthMismatch
	}
	fs := o.fs()
	if o.tree.readOnly {
		switch v.(type) {
		case *wire.FilePositionInfo, *wire.FileModeInfo:
		default:
			return wire.StatusAccessDenied
		}
	}
	switch in := v.(type) {
	case *wire.FileBasicInfo:
		if o.access&wire.FileWriteAttributes == 0 {
			return wire.StatusAccessDenied
		}
		return r.setBasic(o, in)
	case *wire.FileEndOfFileInfo:
		if o.access&wire.FileWriteData == 0 {
			return wire.StatusAccessDenied
		}
		if o.isDir {
			return wire.StatusInvalidParameter
		}
		if in.EndOfFile > 1<<62 {
			return wire.StatusInvalidParameter
		}
		r.c.srv.locker.ContendLevel2(ctx, o.key, o.oid)
		if err := fs.Truncate(o.f, int64(in.EndOfFile)); err != nil {
			return err
		}
		r.c.srv.notifyChange(o.tree.share, o.rel, notifyModified, false)
		return nil
	case *wire.FileAllocationInfo:
		if o.access&wire.FileWriteData == 0 {
			return wire.StatusAccessDenied
		}
		if o.isDir {
			return wire.StatusInvalidParameter
		}
		// Allocation below the end of file truncates (MS-FSA 2.1.5.15.1);
		// any change breaks read caching of other opens (Samba).
		r.c.srv.locker.ContendLevel2(ctx, o.key, o.oid)
		size, err := o.f.Seek(0, io.SeekEnd)
		if err != nil {
			return err
		}
		if in.AllocationSize < uint64(size) {
			return fs.Truncate(o.f, int64(in.AllocationSize))
		}
		return nil
	case *wire.FileDispositionInfo:
		return r.setDisposition(ctx, o, in.DeletePending)
	case *wire.FileDispositionInfoEx:
		return r.setDisposition(ctx, o, in.Flags&wire.FileDispositionDelete != 0)
	case *wire.FileRenameInfo:
		if req.InfoClass == wire.FileLinkInformation || req.InfoClass == wire.FileLinkInformationEx {
			return wire.StatusNotSupported
		}
		return r.rename(ctx, o, in)
	case *wire.FilePositionInfo:
		o.mu.Lock()
		o.position = in.CurrentByteOffset
		o.mu.Unlock()
		return nil
	case *wire.FileModeInfo:
		const valid = 0x2 | 0x4 | 0x10 | 0x20 | 0x1000 // WRITE_THROUGH, SEQUENTIAL_ONLY, SYNCHRONOUS_IO_*, DELETE_ON_CLOSE
		if in.Mode&^valid != 0 || in.Mode&0x30 == 0x30 {
			return wire.StatusInvalidParameter
		}
		o.mu.Lock()
		o.mode = in.Mode
		o.mu.Unlock()
		return nil
	case *wire.FileValidDataLengthInfo:
		return wire.StatusNotSupported
	case []wire.FullEA:
		if o.access&wire.FileWriteEA == 0 {
			return wire.StatusAccessDenied
		}
		return writeEAs(int(o.f.Fd()), req.Buffer)
	}
	return wire.StatusInvalidInfoClass
}

// setBasic applies FileBasicInformation: times (0 and -1 leave a time as
// it is) and attributes (0 leaves them).
func (r *request) setBasic(o *open, in *wire.FileBasicInfo) error {
	conv := func(ft uint64) *time.Time {
		if ft == 0 || ft == ^uint64(0) || ft == ^uint64(0)-1 {
			return nil
		}
		t := wire.TimeFromFiletime(ft)
		return &t
	}
	// A stream's times and attributes are its base file's (streams.go).
	f, done, err := o.metadataFile()
	if err != nil {
		return err
	}
	defer done()
	if in.FileAttributes != 0 {
		a := in.FileAttributes
		if a&wire.FileAttributeDirectory != 0 && !o.isDir || a&0x8 != 0 {
			return wire.StatusInvalidParameter
		}
		if a&wire.FileAttributeTemporary != 0 && o.isDir {
			return wire.StatusInvalidParameter
		}
		if err := o.fs().SetAttributes(f, a&^(wire.FileAttributeDirectory|wire.FileAttributeNormal)); err != nil {
			return err
		}
	}
	c, a, w, ch := conv(in.CreationTime), conv(in.LastAccessTime), conv(in.LastWriteTime), conv(in.ChangeTime)
	if c != nil || a != nil || w != nil || ch != nil {
		if err := o.fs().SetTimes(f, c, a, w, ch); err != nil {
			return err
		}
	}
	// Watches hear of what was set (Samba's smb_set_file_time and
	// file_set_dosmode): attributes, and each time but the change time.
	var filter uint32
	if in.FileAttributes != 0 {
		filter |= wire.FileNotifyChangeAttributes
	}
	if c != nil {
		filter |= wire.FileNotifyChangeCreation
	}
	if a != nil {
		filter |= wire.FileNotifyChangeLastAccess
	}
	if w != nil {
		filter |= wire.FileNotifyChangeLastWrite
	}
	r.c.srv.notifyModified(o.tree.share, o.rel, filter)
	return nil
}

// setDisposition marks or unmarks the file for deletion when its last open
// anywhere closes (MS-FSA 2.1.5.15.3).
func (r *request) setDisposition(ctx context.Context, o *open, del bool) error {
	if o.access&wire.Delete == 0 {
		return wire.StatusAccessDenied
	}
	if del {
		info, err := vfs.StatFile(o.f)
		if err != nil {
			return err
		}
		if info.Attributes&wire.FileAttributeReadonly != 0 {
			return wire.StatusCannotDelete
		}
		if o.rel == "" {
			return wire.StatusCannotDelete
		}
		if info.IsDir {
			entries, err := o.fs().ReadDir(o.rel)
			if err != nil {
				return err
			}
			if len(entries) > 0 {
				return wire.StatusDirectoryNotEmpty
			}
		}
	}
	if err := r.c.srv.locker.SetDeleteOnClose(ctx, o.key, o.oid, del); err != nil {
		return err
	}
	o.mu.Lock()
	o.deletePending = del
	o.deleteOnClose = del
	o.mu.Unlock()
	if del && o.isDir {
		r.c.srv.deletePendingDir(o.key)
	}
	return nil
}

// rename is FileRenameInformation (MS-FSA 2.1.5.15.14).
func (r *request) rename(ctx context.Context, o *open, in *wire.FileRenameInfo) error {
	if o.access&wire.Delete == 0 {
		return wire.StatusAccessDenied
	}
	// First, as Samba does: other leases lose handle caching.
	if err := r.breakHandleLeasesForRename(ctx, o); err != nil {
		return err
	}
	if in.RootDirectory != 0 {
		return wire.StatusInvalidParameter
	}
	target := strings.TrimPrefix(in.FileName, `\`)
	if target == "" {
		return wire.StatusInvalidParameter
	}
	if o.stream != "" || strings.HasPrefix(target, ":") {
		return r.renameStream(ctx, o, target, in.ReplaceIfExists) // streams.go
	}
	fs := o.fs()
	oldRel, _ := o.path()
	if oldRel == "" {
		return wire.StatusAccessDenied
	}
	newRel, err := fs.ResolveTarget(target)
	if err != nil {
		return err
	}
	if newRel == oldRel {
		return nil
	}
	if err := r.checkCreate(newRel, o.isDir); err != nil {
		return err
	}
	if o.isDir && r.c.srv.hasOpensBelow(o.tree.share, oldRel) {
		return wire.StatusAccessDenied
	}
	// A destination directory held open with DELETE access refuses new
	// names (Samba's parent_dirname_compatible_open, as Windows does).
	if r.c.srv.dirOpenWithDelete(o.tree.share, path.Dir(newRel)) {
		return wire.StatusSharingViolation
	}
	// Replacing a file that is open (anywhere) is refused (MS-FSA 2.1.5.15.14).
	if st, err := fs.Stat(newRel); err == nil && !strings.EqualFold(newRel, oldRel) {
		if !in.ReplaceIfExists {
			return wire.StatusObjectNameCollision
		}
		if st.IsDir {
			return wire.StatusAccessDenied
		}
		k := table.Key{Share: o.tree.share.cfg.Name, Inode: st.FileID}
		if r.c.srv.locker.IsOpen(ctx, k) {
			return wire.StatusAccessDenied
		}
	}
	if err := fs.Rename(oldRel, newRel, in.ReplaceIfExists); err != nil {
		if errors.Is(err, vfs.ErrExist) {
			return wire.StatusObjectNameCollision
		}
		return err
	}
	r.c.srv.renamed(o.tree.share, oldRel, newRel, target)
	r.c.srv.notifyRename(o.tree.share, oldRel, newRel, o.isDir)
	return nil
}

// dirOpenWithDelete reports whether this node has the directory rel open
// with DELETE access.
func (s *Server) dirOpenWithDelete(sh *share, rel string) bool {
	if rel == "." {
		rel = ""
	}
	found := false
	s.opens.Range(func(_, v any) bool {
		o := v.(*open)
		if o.tree.share == sh && o.isDir && o.access&wire.Delete != 0 {
			if p, _ := o.path(); p == rel {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// hasOpensBelow reports whether this node has an open inside directory rel.
func (s *Server) hasOpensBelow(sh *share, rel string) bool {
	found := false
	prefix := rel + "/"
	s.opens.Range(func(_, v any) bool {
		o := v.(*open)
		if o.tree.share == sh {
			p, _ := o.path()
			if strings.HasPrefix(p, prefix) {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// renamed updates the paths of this node's opens after a rename.
func (s *Server) renamed(sh *share, oldRel, newRel, clientName string) {
	prefix := oldRel + "/"
	s.opens.Range(func(_, v any) bool {
		o := v.(*open)
		if o.tree.share != sh {
			return true
		}
		o.mu.Lock()
		switch {
		case o.rel == oldRel:
			o.rel, o.name = newRel, clientName
		case strings.HasPrefix(o.rel, prefix):
			o.rel = newRel + "/" + strings.TrimPrefix(o.rel, prefix)
			o.name = strings.ReplaceAll(o.rel, "/", `\`)
		}
		o.mu.Unlock()
		return true
	})
}
