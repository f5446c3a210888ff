package smbnode

import (
	"context"
	"errors"
	"os"
	"path"
	"strconv"
	"strings"

	"shoal/lockdb/table"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// Alternate data streams ("file.txt:Zone.Identifier") are kept as plain
// files in a hidden directory of the share, one subdirectory per base
// file's inode: <share>/.shoal-streams/<inode>/<stream>. Keying by inode
// makes them follow renames, on every node, with no extra state; the
// directory never shows in listings and clients cannot open it by name.
const streamsDir = ".shoal-streams"

// splitStream splits a client path into the base path and a stream name.
// "f:s", "f:s:$DATA" name stream s; "f::$DATA" and "f" the main stream
// (stream ""). Other stream types are invalid names.
func splitStream(name string) (base, stream string, err error) {
	last := strings.LastIndexAny(name, `\/`) + 1
	i := strings.IndexByte(name[last:], ':')
	if i < 0 {
		return name, "", nil
	}
	base, rest := name[:last+i], name[last+i+1:]
	stream, typ, hasType := strings.Cut(rest, ":")
	if hasType && !strings.EqualFold(typ, "$DATA") {
		return "", "", wire.StatusObjectNameInvalid
	}
	// Stream names may hold any character but the separators and NUL
	// (smb2.streams.names2); the on-disk name escapes the rest.
	if strings.ContainsAny(stream, "\\/:\x00") || len(stream) > 255 {
		return "", "", wire.StatusObjectNameInvalid
	}
	if base == "" && stream == "" {
		return "", "", wire.StatusObjectNameInvalid
	}
	return base, stream, nil
}

// isStreamsDir reports whether a client path tries to reach the streams
// directory itself.
func isStreamsDir(name string) bool {
	first := name
	if i := strings.IndexAny(name, `\/`); i >= 0 {
		first = name[:i]
	}
	return strings.EqualFold(first, streamsDir)
}

func streamDirOf(inode uint64) string { return streamsDir + "/" + strconv.FormatUint(inode, 10) }

// createStream opens or creates a named stream of base (MS-FSA 2.1.5.1):
// the base file is created first when the disposition allows it.
func (r *request) createStream(ctx context.Context, req *wire.CreateRequest, base, stream string) (*open, uint32, error) {
	if req.CreateOptions&wire.FileDirectoryFile != 0 {
		return nil, 0, wire.StatusNotADirectory // a stream is never a directory
	}
	fs := r.tree.share.fs
	rel, err := fs.Resolve(base)
	if errors.Is(err, vfs.ErrNotExist) {
		if req.CreateDisposition == wire.FileOpen || req.CreateDisposition == wire.FileOverwrite {
			return nil, 0, wire.StatusObjectNameNotFound
		}
		if r.tree.readOnly {
			return nil, 0, wire.StatusAccessDenied
		}
		if err := r.checkCreate(rel, false); err != nil {
			return nil, 0, err
		}
		f, cerr := fs.OpenFile(rel, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if cerr != nil && !errors.Is(cerr, vfs.ErrExist) {
			return nil, 0, cerr
		}
		if f != nil {
			fs.SetAttributes(f, wire.FileAttributeArchive)
			f.Close()
		}
		err = nil
	}
	if err != nil {
		return nil, 0, err
	}
	binfo, err := fs.Stat(rel)
	if err != nil {
		return nil, 0, err
	}
	limit, err := r.checkStreamAccess(rel, req.CreateDisposition, req.DesiredAccess)
	if err != nil {
		return nil, 0, err
	}
	hold, err := r.holdStreamBase(ctx, binfo.FileID)
	if err != nil {
		return nil, 0, err
	}
	dir := streamDirOf(binfo.FileID)
	for _, d := range []string{streamsDir, dir} {
		if err := fs.Mkdir(d); err != nil && !errors.Is(err, vfs.ErrExist) {
			r.c.srv.locker.CloseFile(ctx, hold.key, hold.oid)
			return nil, 0, err
		}
	}
	sreq := *req
	sreq.Name = dir + "/" + encodeStreamName(stream)
	o, action, err := r.openFile(ctx, &sreq)
	if err != nil {
		r.c.srv.locker.CloseFile(ctx, hold.key, hold.oid)
		return nil, 0, err
	}
	o.mu.Lock()
	o.access &= limit
	o.streamBase = hold
	o.baseRel = rel
	o.stream = o.rel[strings.LastIndexByte(o.rel, '/')+1:]
	o.name = req.Name
	o.mu.Unlock()
	return o, action, nil
}

// streamList is FileStreamInformation's list: the main stream and every
// named one.
func (r *request) streamList(o *open, info vfs.Info) []wire.FileStreamEntry {
	var out []wire.FileStreamEntry
	if !info.IsDir {
		out = append(out, wire.FileStreamEntry{StreamName: "::$DATA", StreamSize: info.Size, StreamAllocationSize: info.AllocationSize})
	}
	entries, err := o.fs().ReadDir(streamDirOf(info.FileID))
	if err != nil {
		return out
	}
	for _, e := range entries {
		out = append(out, wire.FileStreamEntry{StreamName: ":" + decodeStreamName(e.Name) + ":$DATA", StreamSize: e.Info.Size, StreamAllocationSize: e.Info.AllocationSize})
	}
	return out
}

// removeStreams deletes the streams of a base file that was deleted, or of
// a new file that got an inode number an old file had.
func removeStreams(fs *vfs.Share, inode uint64) {
	dir := streamDirOf(inode)
	entries, err := fs.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		fs.Remove(dir + "/" + e.Name)
	}
	fs.Remove(dir)
}

// normalizedName is the on-disk spelling of an open's path with
// backslashes (FileNormalizedNameInformation), stream included.
func (o *open) normalizedName() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stream != "" {
		return strings.ReplaceAll(o.baseRel, "/", `\`) + ":" + decodeStreamName(o.stream)
	}
	return strings.ReplaceAll(o.rel, "/", `\`)
}

// encodeStreamName is the on-disk file name of a stream: the characters a
// share's file names cannot hold (controls, wildcards, '%' itself, a
// trailing dot or space, "." and "..") become %XX.
func encodeStreamName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		last := i == len(name)-1
		if c < 0x20 || c == 0x7f || strings.IndexByte(`*?"<>|%`, c) >= 0 ||
			last && (c == ' ' || c == '.') || name == ".." && i == 0 {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// decodeStreamName reverses encodeStreamName; a malformed escape is kept
// as it is.
func decodeStreamName(name string) string {
	if !strings.Contains(name, "%") {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '%' && i+2 < len(name) {
			if v, err := strconv.ParseUint(name[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

// checkDataStream answers a name that spells the main stream out
// ("f::$DATA"): a directory has none (smb2.streams.dir).
func (r *request) checkDataStream(req *wire.CreateRequest, base string) error {
	if req.CreateOptions&wire.FileDirectoryFile != 0 {
		return wire.StatusNotADirectory
	}
	fs := r.tree.share.fs
	rel, err := fs.Resolve(base)
	if err != nil {
		return nil // the open reports it
	}
	if info, err := fs.Stat(rel); err == nil && info.IsDir {
		return wire.StatusFileIsADirectory
	}
	return nil
}

// checkStreamsForDelete: a base file cannot be opened for DELETE while one
// of its streams is open, anywhere in the cluster, without
// FILE_SHARE_DELETE (Samba's open_streams_for_delete; smb2.streams.delete).
// Each stream is probed with a DELETE open that shares everything.
func (r *request) checkStreamsForDelete(ctx context.Context, req *wire.CreateRequest, base string) error {
	if req.DesiredAccess&(wire.Delete|wire.GenericAll) == 0 {
		return nil
	}
	fs := r.tree.share.fs
	rel, err := fs.Resolve(base)
	if err != nil {
		return nil // the open reports it
	}
	info, err := fs.Stat(rel)
	if err != nil || info.IsDir {
		return nil
	}
	entries, err := fs.ReadDir(streamDirOf(info.FileID))
	if err != nil {
		return nil
	}
	locker := r.c.srv.locker
	for _, e := range entries {
		k := table.Key{Share: r.tree.share.cfg.Name, Inode: e.Info.FileID}
		probe := table.Open{
			ID:          table.OpenID{Node: r.c.srv.cfg.Node, ID: r.c.srv.nextOpenID.Add(1)},
			Session:     r.sess.id,
			Access:      table.Delete,
			ShareAccess: table.FileShareRead | table.FileShareWrite | table.FileShareDelete,
			Path:        "(delete streams)",
		}
		if _, err := locker.OpenFile(ctx, k, probe, table.FileOpen); err != nil {
			if errors.Is(err, table.ErrSharingViolation) {
				return wire.StatusSharingViolation
			}
			continue
		}
		locker.CloseFile(ctx, k, probe.ID)
	}
	return nil
}

// streamBaseHold is the open a stream open keeps on its base file in the
// lock database, as Samba's stream opens keep their base_fsp: a stat open
// that shares everything, so the base file deleted meanwhile stays
// DELETE_PENDING until the last stream closes (smb2.streams.delete).
type streamBaseHold struct {
	key table.Key
	oid table.OpenID
}

// holdStreamBase records the hold on the base file with inode ino; a base
// file pending deletion refuses it (STATUS_DELETE_PENDING).
func (r *request) holdStreamBase(ctx context.Context, ino uint64) (*streamBaseHold, error) {
	h := &streamBaseHold{
		key: table.Key{Share: r.tree.share.cfg.Name, Inode: ino},
		oid: table.OpenID{Node: r.c.srv.cfg.Node, ID: r.c.srv.nextOpenID.Add(1)},
	}
	rec := table.Open{
		ID:          h.oid,
		Session:     r.sess.id,
		Access:      table.FileReadAttributes,
		ShareAccess: table.FileShareRead | table.FileShareWrite | table.FileShareDelete,
		Path:        "(stream base)",
	}
	if _, err := r.c.srv.locker.OpenFile(ctx, h.key, rec, table.FileOpen); err != nil {
		return nil, err
	}
	return h, nil
}

// releaseStreamBase drops a closed stream open's hold on its base file;
// when that was the last open of a base file pending deletion, the base
// file and its streams go now. baseRel is only trusted while it still
// names the same inode (the base may have been renamed meanwhile).
func (c *conn) releaseStreamBase(ctx context.Context, o *open) {
	o.mu.Lock()
	h, baseRel := o.streamBase, o.baseRel
	o.streamBase = nil
	o.mu.Unlock()
	if h == nil {
		return
	}
	res, err := c.srv.locker.CloseFile(ctx, h.key, h.oid)
	if err != nil || !res.Delete {
		return
	}
	fs := o.fs()
	if info, err := fs.Stat(baseRel); err != nil || info.FileID != h.key.Inode {
		return
	}
	removeStreams(fs, h.key.Inode)
	if err := fs.Remove(baseRel); err != nil {
		c.log.Info("delete on close failed", "path", baseRel, "err", err)
		return
	}
	c.srv.notifyChange(o.tree.share, baseRel, notifyRemoved, false)
}

// streamMetadata gives a stream open's info its base file's times and
// attributes: a stream has none of its own (MS-FSA; Samba's stream
// modules report the base file's). Other opens are left as they are.
func (o *open) streamMetadata(info *vfs.Info) {
	o.mu.Lock()
	stream, baseRel := o.stream, o.baseRel
	o.mu.Unlock()
	if stream == "" {
		return
	}
	base, err := o.fs().Stat(baseRel)
	if err != nil {
		return
	}
	info.CreationTime, info.LastAccessTime = base.CreationTime, base.LastAccessTime
	info.LastWriteTime, info.ChangeTime = base.LastWriteTime, base.ChangeTime
	info.Attributes = base.Attributes &^ wire.FileAttributeDirectory
	if info.Attributes == 0 {
		info.Attributes = wire.FileAttributeNormal
	}
}

// metadataFile is the file whose times and attributes an open sets: its
// own, or a stream's base file, opened for the call (done closes it).
func (o *open) metadataFile() (f *os.File, done func(), err error) {
	o.mu.Lock()
	stream, baseRel := o.stream, o.baseRel
	o.mu.Unlock()
	if stream == "" {
		return o.f, func() {}, nil
	}
	bf, err := o.fs().OpenFile(baseRel, os.O_RDONLY, 0)
	if err != nil {
		return nil, nil, err
	}
	return bf, func() { bf.Close() }, nil
}

// renameStream is FileRenameInformation on a named stream or to a stream
// name (MS-FSA 2.1.5.15.11.1): ":new" renames the stream among its base
// file's streams. Turning a stream into the main stream, or the main
// stream into a named one, is not supported (INVALID_PARAMETER); a target
// with a path is refused as Windows refuses it (smb2.streams.rename2).
func (r *request) renameStream(ctx context.Context, o *open, target string, replace bool) error {
	o.mu.Lock()
	oldRel, stream, base := o.rel, o.stream, o.baseRel
	o.mu.Unlock()
	if !strings.HasPrefix(target, ":") {
		if strings.Contains(target, ":") {
			return wire.StatusSharingViolation
		}
		return wire.StatusInvalidParameter
	}
	if stream == "" || strings.HasSuffix(target, ":") {
		return wire.StatusInvalidParameter
	}
	_, newStream, err := splitStream("x" + target)
	if err != nil || newStream == "" {
		return wire.StatusInvalidParameter
	}
	fs := o.fs()
	dir := path.Dir(oldRel)
	newRel := dir + "/" + encodeStreamName(newStream)
	if existing, err := fs.Resolve(newRel); err == nil {
		if existing != oldRel {
			if !replace {
				return wire.StatusObjectNameCollision
			}
			st, err := fs.Stat(existing)
			if err != nil {
				return err
			}
			if r.c.srv.locker.IsOpen(ctx, table.Key{Share: o.tree.share.cfg.Name, Inode: st.FileID}) {
				return wire.StatusAccessDenied
			}
			if err := fs.Remove(existing); err != nil {
				return err
			}
		}
	}
	if newRel != oldRel {
		if err := fs.Rename(oldRel, newRel, true); err != nil {
			if errors.Is(err, vfs.ErrExist) {
				return wire.StatusObjectNameCollision
			}
			return err
		}
	}
	name := strings.ReplaceAll(base, "/", `\`) + ":" + newStream
	newDisk := path.Base(newRel)
	r.c.srv.opens.Range(func(_, v any) bool {
		x := v.(*open)
		if x.tree.share != o.tree.share {
			return true
		}
		x.mu.Lock()
		if x.rel == oldRel {
			x.rel, x.stream, x.name = newRel, newDisk, name
		}
		x.mu.Unlock()
		return true
	})
	r.c.srv.notifyModified(o.tree.share, base, wire.FileNotifyChangeStreamName)
	return nil
}
