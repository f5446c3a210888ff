package smbnode

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"

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
	if strings.ContainsAny(stream, `\/:*?"<>|`) || len(stream) > 255 {
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
	dir := streamDirOf(binfo.FileID)
	for _, d := range []string{streamsDir, dir} {
		if err := fs.Mkdir(d); err != nil && !errors.Is(err, vfs.ErrExist) {
			return nil, 0, err
		}
	}
	sreq := *req
	sreq.Name = dir + "/" + stream
	sreq.CreateOptions &^= wire.FileDirectoryFile
	o, action, err := r.openFile(ctx, &sreq)
	if err != nil {
		return nil, 0, err
	}
	o.mu.Lock()
	o.access &= limit
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
		out = append(out, wire.FileStreamEntry{StreamName: ":" + e.Name + ":$DATA", StreamSize: e.Info.Size, StreamAllocationSize: e.Info.AllocationSize})
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
		return strings.ReplaceAll(o.baseRel, "/", `\`) + ":" + o.stream
	}
	return strings.ReplaceAll(o.rel, "/", `\`)
}
