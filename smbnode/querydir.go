package smbnode

import (
	"context"
	"errors"
	"strings"
	"time"

	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// dirSearch is the enumeration state of a directory open (MS-SMB2
// 3.3.1.10 Open.EnumerationLocation / EnumerationSearchPattern).
type dirSearch struct {
	pattern string
	entries []vfs.DirEntry // ".", ".." and the directory's entries
	next    int
	started bool
	// returned counts entries returned since the scan (re)started.
	returned int
	// stamp is the directory's change time when entries were read; a scan
	// that continues after the directory changed drops removed entries.
	stamp time.Time
}

// dirClasses are the information classes QUERY_DIRECTORY serves.
var dirClasses = map[uint8]bool{
	wire.FileDirectoryInformation:           true,
	wire.FileFullDirectoryInformation:       true,
	wire.FileBothDirectoryInformation:       true,
	wire.FileNamesInformation:               true,
	wire.FileIdBothDirectoryInformation:     true,
	wire.FileIdFullDirectoryInformation:     true,
	wire.FileIdExtdDirectoryInformation:     true,
	wire.FileIdExtdBothDirectoryInformation: true,
}

// handleQueryDirectory is SMB2 QUERY_DIRECTORY (MS-SMB2 3.3.5.18).
func handleQueryDirectory(ctx context.Context, r *request) error {
	req, err := wire.ParseQueryDirectoryRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	if !dirClasses[req.InfoClass] {
		return wire.StatusInvalidInfoClass
	}
	if !o.isDir || o.pipe != nil {
		return wire.StatusInvalidParameter
	}
	if o.access&wire.FileReadData == 0 { // FILE_LIST_DIRECTORY
		return wire.StatusAccessDenied
	}
	if req.OutputBufferLength > r.c.srv.cfg.MaxIOSize || req.OutputBufferLength == 0 {
		return wire.StatusInvalidParameter
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	restart := req.Flags&(wire.QueryDirRestartScans|wire.QueryDirReopen) != 0
	if o.dir == nil || restart || !o.dir.started {
		pattern := req.Pattern
		if pattern == "" {
			pattern = "*"
		}
		if o.dir != nil && o.dir.started && !restart && req.Pattern != "" {
			pattern = o.dir.pattern
		}
		entries, err := o.fs().ReadDir(o.rel)
		if err != nil {
			return err
		}
		dot, err := vfs.StatFile(o.f)
		if err != nil {
			return err
		}
		dotdot := dot
		if o.rel != "" {
			parent := ""
			for i := len(o.rel) - 1; i >= 0; i-- {
				if o.rel[i] == '/' {
					parent = o.rel[:i]
					break
				}
			}
			if pi, err := o.fs().Stat(parent); err == nil {
				dotdot = pi
			}
		}
		all := make([]vfs.DirEntry, 0, len(entries)+2)
		all = append(all, vfs.DirEntry{Name: ".", Info: dot}, vfs.DirEntry{Name: "..", Info: dotdot})
		for _, e := range entries {
			if o.rel == "" && e.Name == streamsDir {
				continue
			}
			all = append(all, e)
		}
		o.dir = &dirSearch{pattern: pattern, entries: all, started: true, stamp: dot.ChangeTime}
	}
	d := o.dir
	if d.next < len(d.entries) {
		if now, err := vfs.StatFile(o.f); err == nil && !now.ChangeTime.Equal(d.stamp) {
			if err := refreshSearch(o, d, now.ChangeTime); err != nil {
				return err
			}
		}
	}
	w := wire.NewDirEntryWriter(req.InfoClass, int(req.OutputBufferLength))
	single := req.Flags&wire.QueryDirReturnSingleEntry != 0
	for d.next < len(d.entries) {
		e := &d.entries[d.next]
		if !vfs.Match(d.pattern, e.Name) {
			d.next++
			continue
		}
		de := dirEntry(e)
		if err := w.Add(&de); err != nil {
			if errors.Is(err, wire.ErrBufferFull) {
				if w.Count() == 0 {
					return wire.StatusInfoLengthMismatch
				}
				break
			}
			return err
		}
		d.next++
		d.returned++
		if single {
			break
		}
	}
	if w.Count() == 0 {
		if d.returned > 0 {
			return wire.StatusNoMoreFiles
		}
		return wire.StatusNoSuchFile
	}
	r.out = (&wire.QueryDirectoryResponse{Buffer: w.Bytes()}).Append(r.out)
	return nil
}

// refreshSearch drops from the rest of a scan the entries that were
// removed since it was read (others' changes between QUERY_DIRECTORY calls).
func refreshSearch(o *open, d *dirSearch, stamp time.Time) error {
	entries, err := o.fs().ReadDir(o.rel)
	if err != nil {
		return err
	}
	now := make(map[string]int, len(entries))
	for i, e := range entries {
		now[e.Name] = i
	}
	kept := d.entries[:d.next]
	for _, e := range d.entries[d.next:] {
		if e.Name == "." || e.Name == ".." {
			kept = append(kept, e)
			continue
		}
		if i, ok := now[e.Name]; ok {
			kept = append(kept, entries[i])
		}
	}
	d.entries = kept
	d.stamp = stamp
	return nil
}

// dirEntry converts a vfs entry to the wire's directory entry.
func dirEntry(e *vfs.DirEntry) wire.DirEntry {
	in := &e.Info
	de := wire.DirEntry{
		CreationTime:   wire.Filetime(in.CreationTime),
		LastAccessTime: wire.Filetime(in.LastAccessTime),
		LastWriteTime:  wire.Filetime(in.LastWriteTime),
		ChangeTime:     wire.Filetime(in.ChangeTime),
		EndOfFile:      in.Size,
		AllocationSize: in.AllocationSize,
		FileAttributes: in.Attributes,
		FileID:         in.FileID,
		Name:           e.Name,
	}
	if e.Name != "." && e.Name != ".." {
		if sn := shortName(e.Name, in.FileID); sn != strings.ToUpper(e.Name) {
			de.ShortName = sn
		}
	}
	if in.IsDir {
		de.EndOfFile, de.AllocationSize = 0, 0
	}
	return de
}
