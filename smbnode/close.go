package smbnode

import (
	"context"

	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// handleClose is SMB2 CLOSE (MS-SMB2 3.3.5.10).
func handleClose(ctx context.Context, r *request) error {
	req, err := wire.ParseCloseRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	resp := &wire.CloseResponse{}
	if req.Flags&wire.CloseFlagPostQueryAttrib != 0 && o.f != nil {
		if info, err := vfs.StatFile(o.f); err == nil {
			resp.Flags = wire.CloseFlagPostQueryAttrib
			resp.CreationTime = wire.Filetime(info.CreationTime)
			resp.LastAccessTime = wire.Filetime(info.LastAccessTime)
			resp.LastWriteTime = wire.Filetime(info.LastWriteTime)
			resp.ChangeTime = wire.Filetime(info.ChangeTime)
			resp.FileAttributes = info.Attributes
			if !info.IsDir {
				resp.AllocationSize, resp.EndOfFile = info.AllocationSize, info.Size
			}
		}
	}
	// An async IOCTL on the handle completes first (Samba bug 14769).
	o.asyncIoctls.wait(r.chain.reader.release)
	if err := r.c.closeOpen(ctx, o); err != nil && err != wire.StatusFileClosed {
		r.c.log.Debug("close", "err", err)
	}
	r.out = resp.Append(r.out)
	return nil
}

// handleFlush is SMB2 FLUSH (3.3.5.11).
func handleFlush(ctx context.Context, r *request) error {
	req, err := wire.ParseFlushRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	if o.pipe == nil {
		if o.access&(wire.FileWriteData|wire.FileAppendData) == 0 {
			return wire.StatusAccessDenied
		}
		if !o.isDir {
			if err := o.f.Sync(); err != nil {
				return err
			}
		}
	}
	r.out = appendFixed4(r.out)
	return nil
}
