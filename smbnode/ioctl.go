package smbnode

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"shoal/smbnode/dcerpc"
	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// Object ID FSCTLs (MS-FSCC 2.3.7, 2.3.25).
const (
	fsctlGetObjectID         = 0x0009009C
	fsctlCreateOrGetObjectID = 0x000900C0
	// fsctlSmbtortureReadPadding8 is Samba's
	// FSCTL_SMBTORTURE_GLOBAL_READ_RESPONSE_BODY_PADDING8.
	fsctlSmbtortureReadPadding8 = 0x83848023
	// fsctlSmbtortureIoctlPadding8 is Samba's
	// FSCTL_SMBTORTURE_IOCTL_RESPONSE_BODY_PADDING8: this one response's
	// body is padded with 8 bytes (smb2.ioctl.bug14607).
	fsctlSmbtortureIoctlPadding8 = 0x83848013
	// fsctlSmbtortureAsyncSleep is Samba's FSCTL_SMBTORTURE_FSP_ASYNC_SLEEP:
	// the request goes async for as many microseconds as its one input
	// byte says (Samba's unit), and a CLOSE of its handle waits for it
	// (smb2.ioctl.bug14769).
	fsctlSmbtortureAsyncSleep = 0x83848043
)

// ioctlInOrder reports whether a lone IOCTL frame must be dispatched in
// arrival order, before the requests behind it (conn.frame): the torture
// hook that goes async on a handle has to be registered on it before a
// CLOSE right behind it can run. Its handler never blocks.
func (s *Server) ioctlInOrder(frame []byte) bool {
	if !s.cfg.TortureHooks || len(frame) < wire.HeaderSize+8 {
		return false
	}
	return binary.LittleEndian.Uint32(frame[wire.HeaderSize+4:]) == fsctlSmbtortureAsyncSleep
}

// handleless reports the FSCTLs that take no file handle: their FileId
// must be all ones (MS-SMB2 3.3.5.15).
func handleless(ctl uint32) bool {
	switch ctl {
	case wire.FsctlDfsGetReferrals, wire.FsctlDfsGetReferralsEx, wire.FsctlPipeWait,
		wire.FsctlValidateNegotiateInfo, wire.FsctlQueryNetworkInterfaceInfo,
		fsctlSmbtortureReadPadding8, fsctlSmbtortureIoctlPadding8:
		return true
	}
	return false
}

// objectID is FILE_OBJECTID_BUFFER (MS-FSCC 2.1.3.1) derived from the volume
// and inode, so every node answers the same for the same file.
func objectID(volume, inode uint64) []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint64(b[0:], inode)
	binary.LittleEndian.PutUint64(b[8:], volume)
	copy(b[16:32], b[0:16]) // BirthVolumeId
	binary.LittleEndian.PutUint64(b[16:], volume)
	binary.LittleEndian.PutUint64(b[24:], 0)
	binary.LittleEndian.PutUint64(b[32:], inode) // BirthObjectId
	binary.LittleEndian.PutUint64(b[40:], volume)
	return b
}

// handleIoctl is SMB2 IOCTL (MS-SMB2 3.3.5.15).
func handleIoctl(ctx context.Context, r *request) error {
	req, err := wire.ParseIoctlRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	if req.Flags != wire.IoctlIsFsctl {
		return wire.StatusNotSupported
	}
	if req.MaxOutputResponse > r.c.srv.cfg.MaxIOSize || uint32(len(req.Input)) > r.c.srv.cfg.MaxIOSize {
		return wire.StatusInvalidParameter
	}
	if handleless(req.CtlCode) && req.FileID != (wire.FileID{Persistent: ^uint64(0), Volatile: ^uint64(0)}) {
		return wire.StatusInvalidParameter
	}
	resp := &wire.IoctlResponse{CtlCode: req.CtlCode, FileID: req.FileID}
	switch req.CtlCode {
	case wire.FsctlValidateNegotiateInfo:
		out, err := r.validateNegotiate(req)
		if err != nil {
			return err
		}
		resp.Output = out
	case wire.FsctlDfsGetReferrals, wire.FsctlDfsGetReferralsEx:
		// No DFS (3.3.5.15.2).
		return wire.StatusFsDriverRequired
	case wire.FsctlPipeTransceive:
		o, err := r.lookupOpen(req.FileID)
		if err != nil {
			return err
		}
		if o.pipe == nil {
			return wire.StatusNotSupported
		}
		out, more, err := o.pipe.Transceive(req.Input, int(req.MaxOutputResponse))
		if errors.Is(err, dcerpc.ErrNoData) {
			out, err = nil, nil
		}
		if err != nil {
			return wire.StatusPipeBroken
		}
		resp.Output = out
		r.out = resp.Append(r.out)
		if more {
			return wire.StatusBufferOverflow
		}
		return nil
	case wire.FsctlPipeWait:
		return wire.StatusNotSupported
	case fsctlSmbtortureReadPadding8:
		// Samba's smbtorture hook (smb2.read.bug14607): pad READ response
		// bodies with 8 bytes. Only with Config.TortureHooks.
		if !r.c.srv.cfg.TortureHooks {
			return wire.StatusNotSupported
		}
		if len(req.Input) != 0 {
			return wire.StatusInvalidParameter
		}
		r.c.mu.Lock()
		r.c.readPadding = 8
		r.c.mu.Unlock()
	case fsctlCreateOrGetObjectID, fsctlGetObjectID:
		o, err := r.lookupOpen(req.FileID)
		if err != nil {
			return err
		}
		if o.f == nil {
			return wire.StatusInvalidDeviceRequest
		}
		info, err := vfs.StatFile(o.f)
		if err != nil {
			return err
		}
		resp.Output = objectID(o.tree.share.volumeID(), info.FileID)
	case wire.FsctlSrvRequestResumeKey:
		out, err := r.requestResumeKey(req)
		if err != nil {
			return err
		}
		resp.Output = out
	case wire.FsctlSrvCopychunk, wire.FsctlSrvCopychunkWrite:
		cc, err := r.copychunk(ctx, req)
		if cc != nil {
			// SRV_COPYCHUNK_RESPONSE goes out with a failure too (3.3.4.4).
			resp.Output = cc.Append(nil)
			r.out = resp.Append(r.out)
		}
		return err
	case wire.FsctlSrvEnumerateSnapshots, wire.FsctlGetCompression, wire.FsctlSetCompression,
		wire.FsctlGetReparsePoint, wire.FsctlSetSparse, wire.FsctlSetZeroData,
		wire.FsctlQueryAllocatedRanges, wire.FsctlFileLevelTrim, wire.FsctlDuplicateExtentsToFile:
		o, err := r.lookupOpen(req.FileID)
		if err != nil {
			return err
		}
		out, err := r.fileFsctl(ctx, o, req)
		if err != nil {
			return err
		}
		resp.Output = out
	case wire.FsctlQueryNetworkInterfaceInfo:
		// 3.3.5.15.11: the addresses further channels may use.
		r.c.mu.Lock()
		multichannel := r.c.serverCaps&wire.CapMultiChannel != 0
		r.c.mu.Unlock()
		if !multichannel {
			if r.tree != nil && r.tree.share.ipc {
				return wire.StatusFsDriverRequired
			}
			return wire.StatusInvalidDeviceRequest
		}
		if len(req.Input) != 0 {
			return wire.StatusInvalidParameter
		}
		resp.Output = wire.AppendNetworkInterfaceInfo(nil, r.c.srv.networkInterfaces())
	case fsctlSmbtortureAsyncSleep:
		if !r.c.srv.cfg.TortureHooks {
			return wire.StatusNotSupported
		}
		if len(req.Input) != 1 {
			return wire.StatusInvalidParameter
		}
		o, err := r.lookupOpen(req.FileID)
		if err != nil {
			return err
		}
		return r.asyncSleep(o, time.Duration(req.Input[0])*time.Microsecond, resp)
	case fsctlSmbtortureIoctlPadding8:
		if !r.c.srv.cfg.TortureHooks {
			return wire.StatusNotSupported
		}
		if len(req.Input) != 0 {
			return wire.StatusInvalidParameter
		}
		out := bytes.Repeat([]byte{8}, int(req.MaxOutputResponse))
		r.out = appendPaddedIoctlResponse(r.out, req.CtlCode, req.FileID, out, 8)
		return nil
	default:
		if req.FileID != (wire.FileID{}) {
			if _, err := r.lookupOpen(req.FileID); err != nil {
				return err
			}
		}
		return wire.StatusNotSupported
	}
	if len(resp.Output) > int(req.MaxOutputResponse) {
		return wire.StatusBufferTooSmall
	}
	r.out = resp.Append(r.out)
	return nil
}

// validateNegotiate answers FSCTL_VALIDATE_NEGOTIATE_INFO (3.3.5.15.12):
// the values the client sent at NEGOTIATE must match, or the connection
// is terminated as a possible downgrade attack.
func (r *request) validateNegotiate(req *wire.IoctlRequest) ([]byte, error) {
	c := r.c
	c.mu.Lock()
	dialect, caps, guid, secMode, dialects := c.dialect, c.clientCaps, c.clientGUID, c.clientSecMode, c.clientDialects
	srvCaps, srvSecMode := c.serverCaps, c.serverSecMode
	c.mu.Unlock()
	if dialect == wire.Dialect311 {
		return nil, errDrop
	}
	in, err := wire.ParseValidateNegotiateInfoRequest(req.Input)
	if err != nil {
		return nil, errDrop
	}
	if in.Capabilities != caps || in.GUID != guid || in.SecurityMode != secMode || !slices.Equal(in.Dialects, dialects) {
		c.log.Warn("VALIDATE_NEGOTIATE_INFO mismatch: terminating connection")
		return nil, errDrop
	}
	out := &wire.ValidateNegotiateInfoResponse{Capabilities: srvCaps, GUID: c.srv.guid, SecurityMode: srvSecMode, Dialect: dialect}
	return out.Append(nil), nil
}

// File system FSCTL layouts (MS-FSCC 2.3).
const (
	compressionFormatNone = 0  // COMPRESSION_FORMAT_NONE (2.3.10)
	zeroDataInfoSize      = 16 // FILE_ZERO_DATA_INFORMATION (2.3.69)
	allocatedRangeSize    = 16 // FILE_ALLOCATED_RANGE_BUFFER (2.3.46)
	trimHeaderSize        = 8  // FILE_LEVEL_TRIM: Key, NumRanges (2.3.73)
	trimRangeSize         = 16 // FILE_LEVEL_TRIM_RANGE
	snapshotArrayHeader   = 12 // SRV_SNAPSHOT_ARRAY before SnapShots (MS-SMB2 2.2.32.2)
)

// fileFsctl answers the FSCTLs that act on one open file or directory:
// snapshots (none), compression (none), reparse points (none), sparse
// marks, zeroing, allocated ranges, trim, and block cloning (not
// offered). Access and byte-range locks are checked as Windows and Samba
// do.
func (r *request) fileFsctl(ctx context.Context, o *open, req *wire.IoctlRequest) ([]byte, error) {
	if o.pipe != nil {
		return nil, wire.StatusInvalidDeviceRequest
	}
	fs := o.tree.share.fs
	switch req.CtlCode {
	case wire.FsctlSrvEnumerateSnapshots:
		// SRV_SNAPSHOT_ARRAY (MS-SMB2 2.2.32.2) with no snapshots: the
		// array is the one terminating UTF-16 NUL. A 16-byte buffer asks
		// for the counts only and gets 16 bytes, as from Samba.
		if req.MaxOutputResponse < 16 {
			return nil, wire.StatusInvalidParameter
		}
		out := make([]byte, snapshotArrayHeader+2)
		binary.LittleEndian.PutUint32(out[8:], 2) // SnapShotArraySize
		if req.MaxOutputResponse == 16 {
			out = append(out, 0, 0)
		}
		return out, nil
	case wire.FsctlGetCompression:
		// COMPRESSION_FORMAT_NONE: the filesystem does not compress, and
		// answering so (rather than NOT_SUPPORTED) is what Windows' ReFS
		// and Samba do.
		if req.MaxOutputResponse < 2 {
			return nil, wire.StatusInvalidUserBuffer
		}
		return binary.LittleEndian.AppendUint16(nil, compressionFormatNone), nil
	case wire.FsctlSetCompression:
		if o.access&wire.FileWriteData == 0 {
			return nil, wire.StatusAccessDenied
		}
		if len(req.Input) < 2 {
			return nil, wire.StatusInvalidParameter
		}
		if binary.LittleEndian.Uint16(req.Input) != compressionFormatNone {
			return nil, wire.StatusNotSupported
		}
		return nil, nil
	case wire.FsctlGetReparsePoint:
		return nil, wire.StatusNotAReparsePoint
	case wire.FsctlDuplicateExtentsToFile:
		// Block cloning is not offered (FILE_SUPPORTS_BLOCK_REFCOUNTING is
		// not advertised).
		return nil, wire.StatusNotSupported
	case wire.FsctlSetSparse:
		return nil, r.setSparse(o, req.Input)
	}
	if o.isDir || o.f == nil {
		return nil, wire.StatusInvalidParameter
	}
	switch req.CtlCode {
	case wire.FsctlSetZeroData:
		if o.access&wire.FileWriteData == 0 {
			return nil, wire.StatusAccessDenied
		}
		if len(req.Input) < zeroDataInfoSize {
			return nil, wire.StatusInvalidParameter
		}
		off := binary.LittleEndian.Uint64(req.Input[0:])
		end := binary.LittleEndian.Uint64(req.Input[8:]) // BeyondFinalZero
		if end < off || end > 1<<62 {
			return nil, wire.StatusInvalidParameter
		}
		if end == off {
			return nil, nil
		}
		if err := r.c.srv.locker.CheckIO(ctx, o.key, o.oid, off, end-off, true); err != nil {
			return nil, err
		}
		r.c.srv.locker.ContendLevel2(ctx, o.key, o.oid)
		if err := fs.PunchHole(o.f, int64(off), int64(end-off)); err != nil {
			return nil, err
		}
		rel, _ := o.path()
		r.c.srv.notifyChange(o.tree.share, rel, notifyModified, false)
		return nil, nil
	case wire.FsctlQueryAllocatedRanges:
		if o.access&wire.FileReadData == 0 {
			return nil, wire.StatusAccessDenied
		}
		if len(req.Input) < allocatedRangeSize {
			return nil, wire.StatusInvalidParameter
		}
		return r.allocatedRanges(o, req)
	case wire.FsctlFileLevelTrim:
		return r.fileLevelTrim(ctx, o, req)
	}
	return nil, wire.StatusNotSupported
}

// setSparse is FSCTL_SET_SPARSE (MS-FSCC 2.3.64): no buffer or a nonzero
// first byte sets the mark, a zero byte clears it. Windows (and Samba)
// accept any of WRITE_DATA, WRITE_ATTRIBUTES and APPEND_DATA; a stream
// succeeds without effect, as on Samba.
func (r *request) setSparse(o *open, in []byte) error {
	if o.access&(wire.FileWriteData|wire.FileWriteAttributes|wire.FileAppendData) == 0 {
		return wire.StatusAccessDenied
	}
	if o.isDir || o.f == nil {
		return wire.StatusInvalidParameter
	}
	o.mu.Lock()
	stream := o.stream
	o.mu.Unlock()
	if stream != "" {
		return nil
	}
	sparse := len(in) == 0 || in[0] != 0
	if err := o.tree.share.fs.SetSparse(o.f, sparse); err != nil {
		return err
	}
	rel, _ := o.path()
	r.c.srv.notifyModified(o.tree.share, rel, wire.FileNotifyChangeAttributes)
	return nil
}

// allocatedRanges is FSCTL_QUERY_ALLOCATED_RANGES (MS-FSCC 2.3.46): the
// parts of the asked range below the end of file that hold data. A file
// not marked sparse is all allocated; a sparse one is asked of the
// filesystem (SEEK_DATA/SEEK_HOLE). An answer that does not fit is
// BUFFER_TOO_SMALL (Samba; no partial list).
func (r *request) allocatedRanges(o *open, req *wire.IoctlRequest) ([]byte, error) {
	off := binary.LittleEndian.Uint64(req.Input[0:])
	n := binary.LittleEndian.Uint64(req.Input[8:])
	info, err := vfs.StatFile(o.f)
	if err != nil {
		return nil, err
	}
	size := info.Size
	if n == 0 || size == 0 || off >= size {
		return []byte{}, nil
	}
	if off+n < off || off > 1<<62 {
		return nil, wire.StatusInvalidParameter
	}
	last := min(size, off+n) - 1
	var ranges [][2]int64
	if info.Attributes&vfs.AttrSparseFile == 0 {
		ranges = [][2]int64{{int64(off), int64(last-off) + 1}}
	} else if ranges, err = vfs.AllocatedRanges(o.f, int64(off), int64(last)); err != nil {
		return nil, err
	}
	out := make([]byte, 0, allocatedRangeSize*len(ranges))
	for _, rg := range ranges {
		out = binary.LittleEndian.AppendUint64(out, uint64(rg[0]))
		out = binary.LittleEndian.AppendUint64(out, uint64(rg[1]))
	}
	if len(out) > int(req.MaxOutputResponse) {
		return nil, wire.StatusBufferTooSmall
	}
	return out, nil
}

// fileLevelTrim is FSCTL_FILE_LEVEL_TRIM (MS-FSCC 2.3.73): the caller no
// longer needs the ranges, so their storage is given back (a hole
// punched; the size stays). Ranges beyond the end of file are ignored.
// The answer is FILE_LEVEL_TRIM_OUTPUT with the number of ranges done.
func (r *request) fileLevelTrim(ctx context.Context, o *open, req *wire.IoctlRequest) ([]byte, error) {
	if o.access&(wire.FileWriteData|wire.FileAppendData) == 0 {
		return nil, wire.StatusAccessDenied
	}
	ranges, err := parseTrimRanges(req.Input)
	if err != nil {
		return nil, err
	}
	if req.MaxOutputResponse < 4 {
		return nil, wire.StatusBufferTooSmall
	}
	info, err := vfs.StatFile(o.f)
	if err != nil {
		return nil, err
	}
	// Clip to the end of file and check every lock before touching data.
	var todo [][2]uint64
	for _, rg := range ranges {
		off, n := rg[0], rg[1]
		if n == 0 || off >= info.Size {
			continue
		}
		n = min(n, info.Size-off)
		if err := r.c.srv.locker.CheckIO(ctx, o.key, o.oid, off, n, true); err != nil {
			return nil, err
		}
		todo = append(todo, [2]uint64{off, n})
	}
	for _, rg := range todo {
		if err := o.tree.share.fs.PunchHole(o.f, int64(rg[0]), int64(rg[1])); err != nil {
			return nil, err
		}
	}
	return binary.LittleEndian.AppendUint32(nil, uint32(len(ranges))), nil
}

// parseTrimRanges decodes FILE_LEVEL_TRIM (MS-FSCC 2.3.73) into
// {offset, length} pairs. It checks every length and never panics: a
// count that overruns the buffer, or a range that wraps or reaches past
// 2^62, is INVALID_PARAMETER.
func parseTrimRanges(in []byte) ([][2]uint64, error) {
	if len(in) < trimHeaderSize {
		return nil, wire.StatusInvalidParameter
	}
	count := uint64(binary.LittleEndian.Uint32(in[4:]))
	if trimHeaderSize+trimRangeSize*count > uint64(len(in)) {
		return nil, wire.StatusInvalidParameter
	}
	out := make([][2]uint64, count)
	for i := range out {
		p := trimHeaderSize + trimRangeSize*i
		off := binary.LittleEndian.Uint64(in[p:])
		n := binary.LittleEndian.Uint64(in[p+8:])
		if off > 1<<62 || n > 1<<62 {
			return nil, wire.StatusInvalidParameter
		}
		out[i] = [2]uint64{off, n}
	}
	return out, nil
}

// appendPaddedIoctlResponse appends an IOCTL response body with pad zero
// bytes between the fixed part and the (input-less) output, as Samba's
// torture hook does; offsets point past the padding.
func appendPaddedIoctlResponse(msg []byte, ctl uint32, id wire.FileID, out []byte, pad int) []byte {
	off := uint32(wire.HeaderSize + 48 + pad)
	msg = binary.LittleEndian.AppendUint16(msg, 49) // StructureSize
	msg = binary.LittleEndian.AppendUint16(msg, 0)
	msg = binary.LittleEndian.AppendUint32(msg, ctl)
	msg = id.Append(msg)
	msg = binary.LittleEndian.AppendUint32(msg, off) // InputOffset
	msg = binary.LittleEndian.AppendUint32(msg, 0)
	msg = binary.LittleEndian.AppendUint32(msg, off) // OutputOffset
	msg = binary.LittleEndian.AppendUint32(msg, uint32(len(out)))
	msg = binary.LittleEndian.AppendUint32(msg, 0) // Flags
	msg = binary.LittleEndian.AppendUint32(msg, 0)
	msg = append(msg, make([]byte, pad)...)
	return append(msg, out...)
}

// defaultLinkSpeed is what an interface whose speed the kernel does not
// know is reported at (1 Gbit/s, Samba's default).
const defaultLinkSpeed = 1_000_000_000

// networkInterfaces lists where a client may open further channels
// (FSCTL_QUERY_NETWORK_INTERFACE_INFO): the address of every listener, or
// for a listener on the unspecified address every address of every
// interface that is up (IPv6 link-local ones need a scope and are left
// out). The port is the listener's, which the client already uses.
func (s *Server) networkInterfaces() []wire.NetworkInterfaceInfo {
	s.mu.Lock()
	var ips []net.IP
	all := false
	for l := range s.listeners {
		a, ok := l.Addr().(*net.TCPAddr)
		if !ok {
			continue
		}
		if a.IP == nil || a.IP.IsUnspecified() {
			all = true
		} else {
			ips = append(ips, a.IP)
		}
	}
	s.mu.Unlock()
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []wire.NetworkInterfaceInfo
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			if !all && !slices.ContainsFunc(ips, ipn.IP.Equal) {
				continue
			}
			ip := ipn.IP.To4()
			if ip == nil {
				ip = ipn.IP.To16()
			}
			out = append(out, wire.NetworkInterfaceInfo{IfIndex: uint32(ifc.Index), LinkSpeed: linkSpeed(ifc.Name), IP: ip})
		}
	}
	return out
}

// linkSpeed is an interface's speed in bit/s as the kernel reports it
// (/sys/class/net/NAME/speed, in Mbit/s), else defaultLinkSpeed.
func linkSpeed(name string) uint64 {
	b, err := os.ReadFile("/sys/class/net/" + name + "/speed")
	if err != nil {
		return defaultLinkSpeed
	}
	mbit, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || mbit <= 0 {
		return defaultLinkSpeed
	}
	return uint64(mbit) * 1_000_000
}

// asyncSleep answers the async-sleep torture hook: an interim response,
// then success after d, or CANCELLED. o's CLOSE waits for it (close.go).
// The handler does not block: the answer comes from a goroutine of its
// own, on a copy of the request, as change notify does (notify.go).
func (r *request) asyncSleep(o *open, d time.Duration, resp *wire.IoctlResponse) error {
	o.asyncIoctls.add()
	actx := r.goAsync()
	if r.async == nil {
		// Not the last request of a compound: wait here.
		defer o.asyncIoctls.done()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-actx.Done():
			return wire.StatusCancelled
		}
		r.out = resp.Append(r.out)
		return nil
	}
	c, a := r.c, r.async
	wr := *r
	wr.out = make([]byte, wire.HeaderSize, wire.HeaderSize+64)
	r.async, r.skipResponse = nil, true
	go func() {
		defer o.asyncIoctls.done()
		t := time.NewTimer(d)
		defer t.Stop()
		status := wire.StatusSuccess
		select {
		case <-t.C:
			wr.out = resp.Append(wr.out)
		case <-a.ctx.Done():
			status = wire.StatusCancelled
		}
		wr.async = a
		if c.ctx.Err() == nil {
			if err := c.respond(&wr, status); err != nil {
				c.log.Debug("sending an IOCTL response", "err", err)
				c.close()
			}
		}
		c.finishAsync(a)
	}()
	return nil
}
