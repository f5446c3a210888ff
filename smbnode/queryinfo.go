package smbnode

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
)

// handleQueryInfo is SMB2 QUERY_INFO (MS-SMB2 3.3.5.20).
func handleQueryInfo(ctx context.Context, r *request) error {
	req, err := wire.ParseQueryInfoRequest(r.msg)
	if err != nil {
		return wire.StatusInvalidParameter
	}
	o, err := r.lookupOpen(req.FileID)
	if err != nil {
		return err
	}
	if req.OutputBufferLength > r.c.srv.cfg.MaxIOSize {
		return wire.StatusInvalidParameter
	}
	var buf []byte
	var fixed int // the smallest buffer the class can return at all
	switch req.InfoType {
	case wire.InfoTypeFile:
		buf, fixed, err = r.queryFileInfo(o, req)
	case wire.InfoTypeFilesystem:
		buf, fixed, err = r.queryFSInfo(o, req)
	case wire.InfoTypeSecurity:
		return r.querySecurity(o, req)
	case wire.InfoTypeQuota:
		return wire.StatusNotSupported
	default:
		return wire.StatusInvalidParameter
	}
	if err != nil {
		return err
	}
	limit := int(req.OutputBufferLength)
	if limit < fixed {
		return wire.StatusInfoLengthMismatch
	}
	status := wire.StatusSuccess
	if len(buf) > limit {
		buf = buf[:limit]
		status = wire.StatusBufferOverflow
	}
	r.out = (&wire.QueryInfoResponse{Buffer: buf}).Append(r.out)
	if status != wire.StatusSuccess {
		return status
	}
	return nil
}

// queryFileInfo encodes one SMB2_0_INFO_FILE class. fixed is the class's
// minimum size: variable-length classes may be cut with BUFFER_OVERFLOW.
func (r *request) queryFileInfo(o *open, req *wire.QueryInfoRequest) ([]byte, int, error) {
	class := req.InfoClass
	need := uint32(0)
	switch class {
	case wire.FileBasicInformation, wire.FileAllInformation, wire.FileNetworkOpenInformation, wire.FileAttributeTagInformation:
		need = wire.FileReadAttributes
	case wire.FileFullEaInformation:
		need = wire.FileReadEA
	}
	if need != 0 && o.access&need == 0 {
		return nil, 0, wire.StatusAccessDenied
	}
	info, err := r.openInfo(o)
	if err != nil {
		return nil, 0, err
	}
	o.mu.Lock()
	pos, mode, delPending, name := o.position, o.mode, o.deletePending, o.name
	o.mu.Unlock()
	basic := wire.FileBasicInfo{
		CreationTime:   wire.Filetime(info.CreationTime),
		LastAccessTime: wire.Filetime(info.LastAccessTime),
		LastWriteTime:  wire.Filetime(info.LastWriteTime),
		ChangeTime:     wire.Filetime(info.ChangeTime),
		FileAttributes: info.Attributes,
	}
	size, alloc := info.Size, info.AllocationSize
	if info.IsDir {
		size, alloc = 0, 0
	}
	nlink := info.Nlink
	if delPending && nlink > 0 {
		nlink--
	}
	std := wire.FileStandardInfo{AllocationSize: alloc, EndOfFile: size, NumberOfLinks: nlink, DeletePending: delPending, Directory: info.IsDir}
	var b []byte
	switch class {
	case wire.FileBasicInformation:
		return basic.Append(b), 40, nil
	case wire.FileStandardInformation:
		return std.Append(b), 24, nil
	case wire.FileInternalInformation:
		return (&wire.FileInternalInfo{IndexNumber: info.FileID}).Append(b), 8, nil
	case wire.FileEaInformation:
		var size uint32
		if o.f != nil {
			eas, _ := readEAs(int(o.f.Fd()))
			size = eaSize(eas)
		}
		return (&wire.FileEaInfo{EaSize: size}).Append(b), 4, nil
	case wire.FileAccessInformation:
		return (&wire.FileAccessInfo{AccessFlags: o.access}).Append(b), 4, nil
	case wire.FilePositionInformation:
		return (&wire.FilePositionInfo{CurrentByteOffset: pos}).Append(b), 8, nil
	case wire.FileModeInformation:
		return (&wire.FileModeInfo{Mode: mode}).Append(b), 4, nil
	case wire.FileAlignmentInformation:
		return (&wire.FileAlignmentInfo{}).Append(b), 4, nil
	case wire.FileAllInformation:
		all := wire.FileAllInfo{
			Basic: basic, Standard: std,
			Internal: wire.FileInternalInfo{IndexNumber: info.FileID},
			Access:   wire.FileAccessInfo{AccessFlags: o.access},
			Position: wire.FilePositionInfo{CurrentByteOffset: pos},
			Mode:     wire.FileModeInfo{Mode: mode},
			Name:     wire.FileNameInfo{FileName: `\` + name},
		}
		return all.Append(b), 104, nil
	case wire.FileNameInformation:
		return (&wire.FileNameInfo{FileName: `\` + name}).Append(b), 4, nil
	case wire.FileNormalizedNameInformation:
		r.c.mu.Lock()
		d := r.c.dialect
		r.c.mu.Unlock()
		if d < wire.Dialect311 {
			return nil, 0, wire.StatusNotSupported
		}
		return (&wire.FileNameInfo{FileName: o.normalizedName()}).Append(b), 4, nil
	case wire.FileAlternateNameInformation:
		base := name
		if i := strings.LastIndexAny(base, `\/`); i >= 0 {
			base = base[i+1:]
		}
		return (&wire.FileNameInfo{FileName: shortName(base, info.FileID)}).Append(b), 8, nil
	case wire.FileStreamInformation:
		streams := r.streamList(o, info)
		if len(streams) == 0 {
			return nil, 0, nil
		}
		return wire.AppendFileStreamInfo(b, streams), 32, nil
	case wire.FileCompressionInformation:
		return (&wire.FileCompressionInfo{CompressedFileSize: size}).Append(b), 16, nil
	case wire.FileNetworkOpenInformation:
		return (&wire.FileNetworkOpenInfo{
			CreationTime: basic.CreationTime, LastAccessTime: basic.LastAccessTime,
			LastWriteTime: basic.LastWriteTime, ChangeTime: basic.ChangeTime,
			AllocationSize: alloc, EndOfFile: size, FileAttributes: info.Attributes,
		}).Append(b), 56, nil
	case wire.FileAttributeTagInformation:
		return (&wire.FileAttributeTagInfo{FileAttributes: info.Attributes}).Append(b), 8, nil
	case wire.FileIdInformation:
		return (&wire.FileIDInfo{VolumeSerialNumber: o.tree.share.volumeID(), FileID: info.FileID}).Append(b), 24, nil
	case wire.FileFullEaInformation:
		return r.queryEAs(o, req)
	}
	return nil, 0, wire.StatusInvalidInfoClass
}

// openInfo stats an open (a pipe has a fixed answer).
func (r *request) openInfo(o *open) (vfs.Info, error) {
	if o.pipe != nil {
		now := o.created
		return vfs.Info{CreationTime: now, LastAccessTime: now, LastWriteTime: now, ChangeTime: now,
			AllocationSize: 4096, Attributes: wire.FileAttributeNormal, Nlink: 1}, nil
	}
	info, err := vfs.StatFile(o.f)
	if err == nil {
		o.streamMetadata(&info)
	}
	return info, err
}

// queryFSInfo encodes one SMB2_0_INFO_FILESYSTEM class.
func (r *request) queryFSInfo(o *open, req *wire.QueryInfoRequest) ([]byte, int, error) {
	sh := o.tree.share
	var b []byte
	switch req.InfoClass {
	case wire.FileFsVolumeInformation:
		return (&wire.FileFsVolumeInfo{
			VolumeCreationTime: wire.Filetime(r.c.srv.started.Truncate(time.Hour)),
			VolumeSerialNumber: uint32(sh.volumeID()),
			VolumeLabel:        sh.cfg.Name,
		}).Append(b), 24, nil
	case wire.FileFsDeviceInformation:
		return (&wire.FileFsDeviceInfo{DeviceType: wire.FileDeviceDisk}).Append(b), 8, nil
	case wire.FileFsAttributeInformation:
		// Case-sensitive search is offered as NTFS and Samba offer it
		// (smb2.streams.names3 needs it); names are matched without case.
		attrs := wire.FileCaseSensitiveSearch | wire.FileCasePreservedNames | wire.FileUnicodeOnDisk | fileSupportsObjectIDs | filePersistentACLs |
			wire.FileSupportsSparseFiles // FSCTL_SET_SPARSE and friends (ioctl.go)
		return (&wire.FileFsAttributeInfo{FileSystemAttributes: attrs, MaximumComponentNameLength: 255, FileSystemName: "NTFS"}).Append(b), 16, nil
	case wire.FileFsControlInformation:
		// FILE_FS_CONTROL_INFORMATION (MS-FSCC 2.5.2): no quotas.
		var c [48]byte
		for i := 24; i < 40; i++ {
			c[i] = 0xff // DefaultQuotaThreshold, DefaultQuotaLimit: none
		}
		return append(b, c[:]...), 48, nil
	case wire.FileFsObjectIDInformation:
		var oi wire.FileFsObjectIDInfo
		binary.LittleEndian.PutUint64(oi.ObjectID[:], sh.volumeID())
		return oi.Append(b), 64, nil
	case wire.FileFsSectorSizeInformation:
		return (&wire.FileFsSectorSizeInfo{
			LogicalBytesPerSector: 512, PhysicalBytesPerSectorForAtomicity: 512,
			PhysicalBytesPerSectorForPerformance: 512, FileSystemEffectivePhysicalBytesPerSectorForAtomicity: 512,
			Flags: 0x3, // ALIGNED_DEVICE | PARTITION_ALIGNED_ON_DEVICE
		}).Append(b), 28, nil
	}
	if sh.fs == nil {
		return nil, 0, wire.StatusInvalidInfoClass
	}
	switch req.InfoClass {
	case wire.FileFsSizeInformation, wire.FileFsFullSizeInformation:
		st, err := sh.fs.Statfs()
		if err != nil {
			return nil, 0, err
		}
		unit := uint64(st.BlockSize)
		spu := uint32(max(unit/512, 1))
		total, free, avail := st.TotalBlocks, st.FreeBlocks, st.AvailableBlocks
		if req.InfoClass == wire.FileFsSizeInformation {
			return (&wire.FileFsSizeInfo{TotalAllocationUnits: total, AvailableAllocationUnits: avail,
				SectorsPerAllocationUnit: spu, BytesPerSector: 512}).Append(b), 24, nil
		}
		return (&wire.FileFsFullSizeInfo{TotalAllocationUnits: total, CallerAvailableAllocationUnits: avail,
			ActualAvailableAllocationUnits: free, SectorsPerAllocationUnit: spu, BytesPerSector: 512}).Append(b), 32, nil
	}
	return nil, 0, wire.StatusInvalidInfoClass
}

// File system attribute bits beyond the wire's named ones (MS-FSCC 2.5.1).
const (
	filePersistentACLs    = 0x00000008
	fileSupportsObjectIDs = 0x00010000
)

// querySecurity returns the security descriptor mapped from owner and mode.
func (r *request) querySecurity(o *open, req *wire.QueryInfoRequest) error {
	const sacl = 0x8
	if req.AdditionalInformation&sacl != 0 && o.access&wire.AccessSystemSecurity == 0 {
		return statusPrivilegeNotHeld
	}
	if req.AdditionalInformation&0x17 != 0 && o.access&wire.ReadControl == 0 {
		return wire.StatusAccessDenied
	}
	info, err := r.openInfo(o)
	if err != nil {
		return err
	}
	sd, err := r.getSecurity(o, info, req.AdditionalInformation)
	if err != nil {
		return err
	}
	if len(sd) > int(req.OutputBufferLength) {
		r.errData = binary.LittleEndian.AppendUint32(nil, uint32(len(sd)))
		return wire.StatusBufferTooSmall
	}
	r.out = (&wire.QueryInfoResponse{Buffer: sd}).Append(r.out)
	return nil
}

// shortName is the 8.3 name of a file (FileAlternateNameInformation): the
// name itself, upper-cased, when it is a valid 8.3 name, else a mangled
// name made from its first characters and a hash of the file id.
func shortName(name string, id uint64) string {
	up := strings.ToUpper(name)
	base, ext, _ := strings.Cut(up, ".")
	valid := len(base) >= 1 && len(base) <= 8 && len(ext) <= 3 && !strings.Contains(ext, ".") && !strings.ContainsAny(up, " +,;=[]")
	for _, r := range up {
		if r > 0x7e {
			valid = false
		}
	}
	if valid {
		return up
	}
	clean := func(s string, n int) string {
		var out []rune
		for _, r := range s {
			if len(out) == n {
				break
			}
			if r < 0x7f && r > ' ' && !strings.ContainsRune(".\"/\\[]:;=,+*?<>|", r) {
				out = append(out, r)
			}
		}
		return string(out)
	}
	if i := strings.LastIndex(up, "."); i >= 0 {
		base, ext = up[:i], up[i+1:]
	} else {
		base, ext = up, ""
	}
	short := fmt.Sprintf("%s~%X", clean(base, 4), id%0xFFF)
	if e := clean(ext, 3); e != "" {
		short += "." + e
	}
	return short
}

// queryEAs answers FileFullEaInformation: every EA, or the ones the input
// names (a name without an EA comes back with an empty value).
func (r *request) queryEAs(o *open, req *wire.QueryInfoRequest) ([]byte, int, error) {
	if o.f == nil {
		return nil, 0, wire.StatusNoEasOnFile
	}
	eas, err := readEAs(int(o.f.Fd()))
	if err != nil {
		return nil, 0, err
	}
	if len(req.Input) > 0 {
		names, err := parseGetEAList(req.Input)
		if err != nil {
			return nil, 0, err
		}
		var picked []wire.FullEA
		for _, n := range names {
			e := wire.FullEA{Name: strings.ToUpper(n)}
			for _, have := range eas {
				if strings.EqualFold(have.Name, n) {
					e = have
				}
			}
			picked = append(picked, e)
		}
		eas = picked
	}
	if len(eas) == 0 {
		return nil, 0, wire.StatusNoEasOnFile
	}
	buf := wire.AppendFullEAList(nil, eas)
	if int(req.OutputBufferLength) < len(buf) {
		// EAs are returned whole or not at all (MS-FSA 2.1.5.11.7).
		return nil, 0, wire.StatusBufferOverflow
	}
	return buf, 0, nil
}
