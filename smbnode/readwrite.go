package smbnode

import (
	"context"
	"errors"
	"io"

	"shoal/smbnode/dcerpc"
	"shoal/smbnode/wire"
)

// creditsFor is the credit charge a payload of n bytes needs (3.1.5.2).
func creditsFor(n uint32) uint16 {
	if n == 0 {
		return 1
	}
	return uint16((uint64(n)-1)/65536 + 1)
}

// checkCharge refuses a large request whose CreditCharge does not pay for
// it (3.3.5.2.5).
func (r *request) checkCharge(n uint32) error {
	c := r.c
	c.mu.Lock()
	d := c.dialect
	c.mu.Unlock()
	if d == wire.Dialect202 {
		if n > 64<<10 {
			return wire.StatusInvalidParameter
		}
		return nil
	}
	if creditsFor(n) > max(r.hdr.CreditCharge, 1) {
		return wire.StatusInvalidParameter
	}
	return nil
}

// handleRead is SMB2 READ (MS-SMB2 3.3.5.12).
func handleRead(ctx context.Context, r *request) error {
	req, err := wire.ParseReadRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	if req.Length > r.c.srv.cfg.MaxIOSize {
		return wire.StatusInvalidParameter
	}
	if err := r.checkCharge(req.Length); err != nil {
		return err
	}
	if o.pipe != nil {
		return r.readPipe(ctx, o, req)
	}
	if o.isDir {
		return wire.StatusInvalidDeviceRequest
	}
	if o.access&(wire.FileReadData|wire.FileExecute) == 0 {
		return wire.StatusAccessDenied
	}
	if req.Length > 0 {
		if err := r.c.srv.locker.CheckIO(ctx, o.key, o.oid, req.Offset, uint64(req.Length), false); err != nil {
			return err
		}
	}
	// Read straight into the response buffer.
	r.c.mu.Lock()
	pad := r.c.readPadding
	r.c.mu.Unlock()
	if need := len(r.out) + 16 + pad + int(req.Length); need > cap(r.out) {
		// One buffer for header and data; large ones are recycled.
		var buf []byte
		if need >= bigFrame {
			buf = getFrame(need)[:len(r.out)]
			r.chain.pooled = append(r.chain.pooled, buf)
		} else {
			buf = make([]byte, len(r.out), need)
		}
		copy(buf, r.out)
		r.out = buf
	}
	start := len(r.out)
	r.out = wire.AppendReadResponseHeader(r.out, 0, 0)
	if pad > 0 {
		r.out[start+2] += byte(pad) // DataOffset moves past the padding
		r.out = append(r.out, make([]byte, pad)...)
	}
	hdrEnd := len(r.out)
	r.out = r.out[:hdrEnd+int(req.Length)]
	n, err := o.f.ReadAt(r.out[hdrEnd:], int64(req.Offset))
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if n == 0 && req.Length > 0 || n < int(req.MinimumCount) {
		r.out = r.out[:start]
		return wire.StatusEndOfFile
	}
	if req.Length == 0 {
		// A zero-length read past the end is also end-of-file (Samba smb2.read.eof).
		size, err := o.f.Seek(0, io.SeekEnd)
		if err == nil && req.Offset > uint64(size) {
			r.out = r.out[:start]
			return wire.StatusEndOfFile
		}
	}
	r.out = r.out[:hdrEnd+n]
	wire.AppendReadResponseHeader(r.out[:start], uint32(n), 0)
	if pad > 0 {
		r.out[start+2] += byte(pad)
	}
	o.mu.Lock()
	o.position = req.Offset + uint64(n)
	o.mu.Unlock()
	return nil
}

// readPipe reads the next RPC response from a named pipe.
func (r *request) readPipe(ctx context.Context, o *open, req *wire.ReadRequest) error {
	data, err := o.pipe.Read(int(req.Length))
	status := wire.StatusSuccess
	switch {
	case errors.Is(err, dcerpc.ErrMoreData):
		status = wire.StatusBufferOverflow
	case errors.Is(err, dcerpc.ErrNoData):
		return wire.StatusPipeEmpty
	case err != nil:
		return wire.StatusPipeBroken
	}
	r.out = (&wire.ReadResponse{Data: data}).Append(r.out)
	if status != wire.StatusSuccess {
		return status
	}
	return nil
}

// handleWrite is SMB2 WRITE (MS-SMB2 3.3.5.13).
func handleWrite(ctx context.Context, r *request) error {
	req, err := wire.ParseWriteRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	n := uint32(len(req.Data))
	if n > r.c.srv.cfg.MaxIOSize {
		return wire.StatusInvalidParameter
	}
	if err := r.checkCharge(n); err != nil {
		return err
	}
	if o.pipe != nil {
		if _, err := o.pipe.Write(req.Data); err != nil {
			return wire.StatusPipeBroken
		}
		r.out = (&wire.WriteResponse{Count: n}).Append(r.out)
		return nil
	}
	if o.isDir {
		return wire.StatusInvalidDeviceRequest
	}
	if o.access&(wire.FileWriteData|wire.FileAppendData) == 0 {
		return wire.StatusAccessDenied
	}
	off := req.Offset
	if off == ^uint64(0) {
		// Append to end of file (FILE_WRITE_TO_END_OF_FILE).
		end, err := o.f.Seek(0, io.SeekEnd)
		if err != nil {
			return err
		}
		off = uint64(end)
	}
	if off+uint64(n) < off || off+uint64(n) > 1<<62 {
		return wire.StatusInvalidParameter
	}
	if n > 0 {
		if err := r.c.srv.locker.CheckIO(ctx, o.key, o.oid, off, uint64(n), true); err != nil {
			return err
		}
		r.c.srv.locker.ContendLevel2(ctx, o.key, o.oid)
	}
	if _, err := o.f.WriteAt(req.Data, int64(off)); err != nil {
		return err
	}
	if req.Flags&wire.WriteFlagWriteThrough != 0 || o.createOptions&wire.FileWriteThrough != 0 {
		r.chain.reader.release() // the disk is slow: not on the reader (inline.go)
		if err := o.f.Sync(); err != nil {
			return err
		}
	}
	o.mu.Lock()
	o.position = off + uint64(n)
	o.mu.Unlock()
	r.out = (&wire.WriteResponse{Count: n}).Append(r.out)
	rel, _ := o.path()
	r.c.srv.notifyChange(o.tree.share, rel, notifyModified, false)
	return nil
}
