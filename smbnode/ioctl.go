package smbnode

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"

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
)

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
	case wire.FsctlQueryNetworkInterfaceInfo:
		// Multichannel is not offered (3.3.5.15.11).
		return wire.StatusNotSupported
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
