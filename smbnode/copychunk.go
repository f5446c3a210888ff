package smbnode

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"shoal/smbnode/wire"
)

// Server-side copy limits (MS-SMB2 3.3.1.5 ServerSideCopyMaxNumberofChunks,
// ServerSideCopyMaxChunkSize, ServerSideCopyMaxDataSize), Samba's values.
const (
	copychunkMaxChunks   = 256
	copychunkMaxChunkLen = 1 << 20
	copychunkMaxTotalLen = 16 << 20
)

// statusInvalidViewSize is STATUS_INVALID_VIEW_SIZE, what Windows and Samba
// answer for a chunk that reaches past the source's end (MS-SMB2 3.3.5.15.6,
// note <240>).
const statusInvalidViewSize wire.Status = 0xC000001F

// copychunkResponseSize is the size of SRV_COPYCHUNK_RESPONSE.
const copychunkResponseSize = 12

// A resume key (MS-SMB2 2.2.32.3) names the source open of a server-side
// copy: like Samba's, it is the open's persistent and volatile ids and the
// FSCTL that made it. It is valid for as long as the open is; a copy also
// needs the source to belong to the destination's session, so a guessed
// key gives nothing the session could not open itself.
const (
	resumeKeyPersistent = 0
	resumeKeyVolatile   = 8
	resumeKeyFsctl      = 16
)

// resumeKey is o's resume key.
func resumeKey(o *open) [wire.ResumeKeySize]byte {
	var k [wire.ResumeKeySize]byte
	id := o.fileID()
	binary.LittleEndian.PutUint64(k[resumeKeyPersistent:], id.Persistent)
	binary.LittleEndian.PutUint64(k[resumeKeyVolatile:], id.Volatile)
	binary.LittleEndian.PutUint32(k[resumeKeyFsctl:], wire.FsctlSrvRequestResumeKey)
	return k
}

// openByResumeKey finds the open a resume key names on this node:
// STATUS_OBJECT_NAME_NOT_FOUND when there is none (any more).
func (s *Server) openByResumeKey(k [wire.ResumeKeySize]byte) (*open, error) {
	id := binary.LittleEndian.Uint64(k[resumeKeyPersistent:])
	v, ok := s.opens.Load(id)
	if !ok {
		return nil, wire.StatusObjectNameNotFound
	}
	o := v.(*open)
	if resumeKey(o) != k {
		return nil, wire.StatusObjectNameNotFound
	}
	o.mu.Lock()
	closed := o.closed
	o.mu.Unlock()
	if closed {
		return nil, wire.StatusObjectNameNotFound
	}
	return o, nil
}

// requestResumeKey answers FSCTL_SRV_REQUEST_RESUME_KEY (3.3.5.15.5).
func (r *request) requestResumeKey(req *wire.IoctlRequest) ([]byte, error) {
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return nil, err
	}
	if o.f == nil {
		return nil, wire.StatusInvalidDeviceRequest
	}
	// ContextLength 0, then the 4 zero bytes of Context that Windows
	// sends (MS-SMB2 2.2.32.3 note <56>) and Samba's clients expect.
	return append(wire.AppendResumeKeyResponse(nil, resumeKey(o)), 0, 0, 0, 0), nil
}

// copychunkLimits checks a request against the limits (3.3.5.15.6): too
// many chunks, a chunk empty or too long, or too much in total.
func copychunkLimits(cc *wire.CopychunkCopy) error {
	if len(cc.Chunks) > copychunkMaxChunks {
		return wire.StatusInvalidParameter
	}
	var total uint64
	for _, ch := range cc.Chunks {
		if ch.Length == 0 || ch.Length > copychunkMaxChunkLen {
			return wire.StatusInvalidParameter
		}
		total += uint64(ch.Length)
	}
	if total > copychunkMaxTotalLen {
		return wire.StatusInvalidParameter
	}
	return nil
}

// copychunk answers FSCTL_SRV_COPYCHUNK and FSCTL_SRV_COPYCHUNK_WRITE
// (3.3.5.15.6): it copies the chunks from the open the resume key names to
// the open the request names, in order, stopping at the first failure.
// The response it returns goes out with a failure status too (3.3.4.4):
// the limits when the request exceeded them, else what was written.
func (r *request) copychunk(ctx context.Context, req *wire.IoctlRequest) (*wire.CopychunkResponse, error) {
	dst, err := r.lookupOpen(req.FileID)
	if err != nil {
		return nil, err
	}
	if req.MaxOutputResponse < copychunkResponseSize {
		return nil, wire.StatusInvalidParameter
	}
	cc, err := wire.ParseCopychunkCopy(req.Input)
	if err != nil {
		return nil, wire.StatusInvalidParameter
	}
	if err := copychunkLimits(cc); err != nil {
		return &wire.CopychunkResponse{
			ChunksWritten:     copychunkMaxChunks,
			ChunkBytesWritten: copychunkMaxChunkLen,
			TotalBytesWritten: copychunkMaxTotalLen,
		}, err
	}
	resp := &wire.CopychunkResponse{}
	if len(cc.Chunks) == 0 {
		return resp, nil
	}
	src, err := r.c.srv.openByResumeKey(cc.SourceKey)
	if err != nil {
		return resp, err
	}
	if err := copychunkAccess(req.CtlCode, src, dst); err != nil {
		return resp, err
	}
	for _, ch := range cc.Chunks {
		if err := r.copyOneChunk(ctx, src, dst, ch); err != nil {
			return resp, err
		}
		resp.ChunksWritten++
		resp.TotalBytesWritten += ch.Length
	}
	if dst.createOptions&wire.FileWriteThrough != 0 {
		if err := dst.f.Sync(); err != nil {
			return resp, err
		}
	}
	rel, _ := dst.path()
	r.c.srv.notifyChange(dst.tree.share, rel, notifyModified, false)
	return resp, nil
}

// copychunkAccess is the handle checks of 3.3.5.15.6 (and Samba's
// vfs_offload_token_check_handles): both opens of one session, on files
// of a disk share, the source readable, the destination writable and, for
// FSCTL_SRV_COPYCHUNK, readable too.
func copychunkAccess(ctl uint32, src, dst *open) error {
	if src.sess != dst.sess {
		return wire.StatusAccessDenied
	}
	if src.f == nil || dst.f == nil || src.isDir || dst.isDir {
		return wire.StatusAccessDenied
	}
	if dst.access&(wire.FileWriteData|wire.FileAppendData) == 0 {
		return wire.StatusAccessDenied
	}
	if ctl == wire.FsctlSrvCopychunk && dst.access&wire.FileReadData == 0 {
		return wire.StatusAccessDenied
	}
	if src.access&(wire.FileReadData|wire.FileExecute) == 0 {
		return wire.StatusAccessDenied
	}
	return nil
}

// copyOneChunk copies one chunk after checking the source's end and the
// byte-range locks held through any node on both ranges.
func (r *request) copyOneChunk(ctx context.Context, src, dst *open, ch wire.CopychunkChunk) error {
	n := uint64(ch.Length)
	if ch.SourceOffset > 1<<62 || ch.TargetOffset > 1<<62 {
		return wire.StatusInvalidParameter
	}
	fi, err := src.f.Stat()
	if err != nil {
		return err
	}
	if uint64(fi.Size()) < ch.SourceOffset+n {
		return statusInvalidViewSize
	}
	locker := r.c.srv.locker
	if err := locker.CheckIO(ctx, src.key, src.oid, ch.SourceOffset, n, false); err != nil {
		return err
	}
	if err := locker.CheckIO(ctx, dst.key, dst.oid, ch.TargetOffset, n, true); err != nil {
		return err
	}
	locker.ContendLevel2(ctx, dst.key, dst.oid)
	return copyRange(src.f, dst.f, int64(ch.SourceOffset), int64(ch.TargetOffset), int64(n), src.key == dst.key)
}

// copyRange copies n bytes from src at soff to dst at doff without moving
// either file's offset: with copy_file_range(2) where the kernel can (no
// data through user space; reflinks on filesystems that share extents),
// else through a buffer. Ranges of one file that overlap are copied as a
// read of the whole source range followed by the write, as Windows does.
func copyRange(src, dst *os.File, soff, doff, n int64, sameFile bool) error {
	overlap := sameFile && soff < doff+n && doff < soff+n
	if !overlap {
		done, err := copyFileRange(src, dst, soff, doff, n)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errCopyFallback) {
			return err
		}
		soff, doff, n = soff+done, doff+done, n-done
	}
	buf := make([]byte, n)
	got, err := src.ReadAt(buf, soff)
	if err != nil && !(errors.Is(err, io.EOF) && int64(got) == n) {
		if errors.Is(err, io.EOF) {
			return statusInvalidViewSize // the source shrank under us
		}
		return err
	}
	_, err = dst.WriteAt(buf, doff)
	return err
}

// errCopyFallback: copy_file_range cannot do this copy; read and write.
var errCopyFallback = errors.New("smbnode: copy_file_range unavailable")

// copyFileRange runs copy_file_range(2) until n bytes are copied,
// reporting how many were before errCopyFallback.
func copyFileRange(src, dst *os.File, soff, doff, n int64) (int64, error) {
	sc, err := src.SyscallConn()
	if err != nil {
		return 0, errCopyFallback
	}
	dc, err := dst.SyscallConn()
	if err != nil {
		return 0, errCopyFallback
	}
	var done int64
	var opErr error
	cerr := sc.Control(func(sfd uintptr) {
		cerr := dc.Control(func(dfd uintptr) {
			for done < n {
				so, do := soff+done, doff+done
				m, err := unix.CopyFileRange(int(sfd), &so, int(dfd), &do, int(n-done), 0)
				switch {
				case errors.Is(err, unix.EINTR):
					continue
				case errors.Is(err, unix.EXDEV), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EINVAL):
					opErr = errCopyFallback
					return
				case err != nil:
					opErr = err
					return
				case m == 0:
					opErr = errCopyFallback // source shorter than it was
					return
				}
				done += int64(m)
			}
		})
		if cerr != nil {
			opErr = errCopyFallback
		}
	})
	if cerr != nil {
		return done, errCopyFallback
	}
	return done, opErr
}
