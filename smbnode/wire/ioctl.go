package wire

import "fmt"

// IOCTL flags (MS-SMB2 2.2.31).
const IoctlIsFsctl uint32 = 0x00000001 // SMB2_0_IOCTL_IS_FSCTL

// FSCTL / IOCTL control codes (MS-SMB2 2.2.31, MS-FSCC 2.3).
const (
	FsctlDfsGetReferrals           uint32 = 0x00060194 // FSCTL_DFS_GET_REFERRALS
	FsctlDfsGetReferralsEx         uint32 = 0x000601B0 // FSCTL_DFS_GET_REFERRALS_EX
	FsctlPipePeek                  uint32 = 0x0011400C // FSCTL_PIPE_PEEK
	FsctlPipeWait                  uint32 = 0x00110018 // FSCTL_PIPE_WAIT
	FsctlPipeTransceive            uint32 = 0x0011C017 // FSCTL_PIPE_TRANSCEIVE
	FsctlSrvCopychunk              uint32 = 0x001440F2 // FSCTL_SRV_COPYCHUNK
	FsctlSrvCopychunkWrite         uint32 = 0x001480F2 // FSCTL_SRV_COPYCHUNK_WRITE
	FsctlSrvEnumerateSnapshots     uint32 = 0x00144064 // FSCTL_SRV_ENUMERATE_SNAPSHOTS
	FsctlSrvRequestResumeKey       uint32 = 0x00140078 // FSCTL_SRV_REQUEST_RESUME_KEY
	FsctlSrvReadHash               uint32 = 0x001441BB // FSCTL_SRV_READ_HASH
	FsctlLmrRequestResiliency      uint32 = 0x001401D4 // FSCTL_LMR_REQUEST_RESILIENCY
	FsctlQueryNetworkInterfaceInfo uint32 = 0x001401FC // FSCTL_QUERY_NETWORK_INTERFACE_INFO
	FsctlValidateNegotiateInfo     uint32 = 0x00140204 // FSCTL_VALIDATE_NEGOTIATE_INFO
	FsctlGetReparsePoint           uint32 = 0x000900A8 // FSCTL_GET_REPARSE_POINT
	FsctlSetReparsePoint           uint32 = 0x000900A4 // FSCTL_SET_REPARSE_POINT
	FsctlFileLevelTrim             uint32 = 0x00098208 // FSCTL_FILE_LEVEL_TRIM
	FsctlIsPathnameValid           uint32 = 0x0009002C // FSCTL_IS_PATHNAME_VALID
	FsctlGetCompression            uint32 = 0x0009003C // FSCTL_GET_COMPRESSION
	FsctlSetCompression            uint32 = 0x0009C040 // FSCTL_SET_COMPRESSION
	FsctlGetObjectID               uint32 = 0x0009009C // FSCTL_GET_OBJECT_ID
	FsctlCreateOrGetObjectID       uint32 = 0x000900C0 // FSCTL_CREATE_OR_GET_OBJECT_ID
	FsctlSetSparse                 uint32 = 0x000900C4 // FSCTL_SET_SPARSE
	FsctlSetZeroData               uint32 = 0x000980C8 // FSCTL_SET_ZERO_DATA
	FsctlQueryAllocatedRanges      uint32 = 0x000940CF // FSCTL_QUERY_ALLOCATED_RANGES
	FsctlGetIntegrityInformation   uint32 = 0x0009027C // FSCTL_GET_INTEGRITY_INFORMATION
	FsctlDuplicateExtentsToFile    uint32 = 0x00098344 // FSCTL_DUPLICATE_EXTENTS_TO_FILE
)

// IOCTL layouts (MS-SMB2 2.2.31, 2.2.32).
const (
	ioctlReqStructureSize  = 57
	ioctlReqCtlCode        = HeaderSize + 4
	ioctlReqFileID         = HeaderSize + 8
	ioctlReqInputOffset    = HeaderSize + 24
	ioctlReqInputCount     = HeaderSize + 28
	ioctlReqMaxInputResp   = HeaderSize + 32
	ioctlReqOutputOffset   = HeaderSize + 36
	ioctlReqOutputCount    = HeaderSize + 40
	ioctlReqMaxOutputResp  = HeaderSize + 44
	ioctlReqFlags          = HeaderSize + 48
	ioctlRespStructureSize = 49
	ioctlRespBuffer        = HeaderSize + 48 // 0x70
)

// IoctlRequest is SMB2 IOCTL Request (MS-SMB2 2.2.31).
type IoctlRequest struct {
	CtlCode           uint32
	FileID            FileID
	Input             []byte // aliases msg
	MaxInputResponse  uint32
	Output            []byte // aliases msg; clients send none
	MaxOutputResponse uint32
	Flags             uint32
}

// ParseIoctlRequest decodes an SMB2 IOCTL request.
func ParseIoctlRequest(msg []byte) (*IoctlRequest, error) {
	if err := checkBody(msg, "IOCTL", ioctlReqStructureSize); err != nil {
		return nil, err
	}
	in, err := bufferAt(msg, le32(msg, ioctlReqInputOffset), le32(msg, ioctlReqInputCount), "IOCTL Input")
	if err != nil {
		return nil, err
	}
	out, err := bufferAt(msg, le32(msg, ioctlReqOutputOffset), le32(msg, ioctlReqOutputCount), "IOCTL Output")
	if err != nil {
		return nil, err
	}
	return &IoctlRequest{
		CtlCode:           le32(msg, ioctlReqCtlCode),
		FileID:            readFileID(msg, ioctlReqFileID),
		Input:             in,
		MaxInputResponse:  le32(msg, ioctlReqMaxInputResp),
		Output:            out,
		MaxOutputResponse: le32(msg, ioctlReqMaxOutputResp),
		Flags:             le32(msg, ioctlReqFlags),
	}, nil
}

// IoctlResponse is SMB2 IOCTL Response (MS-SMB2 2.2.32).
type IoctlResponse struct {
	CtlCode uint32
	FileID  FileID
	Input   []byte // normally empty
	Output  []byte
	Flags   uint32
}

// Append appends the IOCTL response body; the header must be the last 64
// bytes of msg. Input starts at 0x70, Output 8-aligned after it (both
// offsets point at 0x70 when Input is empty, as Windows sends them).
func (r *IoctlResponse) Append(msg []byte) []byte {
	base := len(msg) - HeaderSize
	inOff := uint32(ioctlRespBuffer)
	outOff := inOff
	if len(r.Input) > 0 {
		outOff = uint32(align8(ioctlRespBuffer + len(r.Input)))
	}
	msg = app16(msg, ioctlRespStructureSize)
	msg = app16(msg, 0)
	msg = app32(msg, r.CtlCode)
	msg = r.FileID.Append(msg)
	msg = app32(msg, inOff)
	msg = app32(msg, uint32(len(r.Input)))
	msg = app32(msg, outOff)
	msg = app32(msg, uint32(len(r.Output)))
	msg = app32(msg, r.Flags)
	msg = app32(msg, 0)
	msg = append(msg, r.Input...)
	if len(r.Output) > 0 {
		msg = pad8(msg, base)
		msg = append(msg, r.Output...)
	}
	if len(r.Input) == 0 && len(r.Output) == 0 {
		msg = append(msg, 0)
	}
	return msg
}

// ValidateNegotiateInfoRequest is VALIDATE_NEGOTIATE_INFO Request
// (MS-SMB2 2.2.31.4), the input of FSCTL_VALIDATE_NEGOTIATE_INFO.
type ValidateNegotiateInfoRequest struct {
	Capabilities uint32
	GUID         [16]byte
	SecurityMode uint16
	Dialects     []uint16
}

// VALIDATE_NEGOTIATE_INFO request layout (MS-SMB2 2.2.31.4).
const (
	vniCapabilities = 0
	vniGUID         = 4
	vniSecurityMode = 20
	vniDialectCount = 22
	vniDialects     = 24
)

// ParseValidateNegotiateInfoRequest decodes the IOCTL input buffer.
func ParseValidateNegotiateInfoRequest(in []byte) (*ValidateNegotiateInfoRequest, error) {
	if len(in) < vniDialects {
		return nil, fmt.Errorf("%w: VALIDATE_NEGOTIATE_INFO of %d bytes", ErrMalformed, len(in))
	}
	n := int(le16(in, vniDialectCount))
	if vniDialects+2*n > len(in) {
		return nil, fmt.Errorf("%w: VALIDATE_NEGOTIATE_INFO DialectCount %d overruns %d bytes", ErrMalformed, n, len(in))
	}
	r := &ValidateNegotiateInfoRequest{
		Capabilities: le32(in, vniCapabilities),
		SecurityMode: le16(in, vniSecurityMode),
		Dialects:     readU16s(in, vniDialects, n),
	}
	copy(r.GUID[:], in[vniGUID:vniGUID+16])
	return r, nil
}

// Append appends the request encoding (for tests and clients).
func (r *ValidateNegotiateInfoRequest) Append(b []byte) []byte {
	b = app32(b, r.Capabilities)
	b = append(b, r.GUID[:]...)
	b = app16(b, r.SecurityMode)
	b = app16(b, uint16(len(r.Dialects)))
	for _, d := range r.Dialects {
		b = app16(b, d)
	}
	return b
}

// ValidateNegotiateInfoResponse is VALIDATE_NEGOTIATE_INFO Response
// (MS-SMB2 2.2.32.6).
type ValidateNegotiateInfoResponse struct {
	Capabilities uint32
	GUID         [16]byte
	SecurityMode uint16
	Dialect      uint16
}

// Append appends the 24-byte response (the IOCTL Output).
func (r *ValidateNegotiateInfoResponse) Append(b []byte) []byte {
	b = app32(b, r.Capabilities)
	b = append(b, r.GUID[:]...)
	b = app16(b, r.SecurityMode)
	return app16(b, r.Dialect)
}

// ResumeKeySize is the size of a copychunk resume key (MS-SMB2 2.2.32.3).
const ResumeKeySize = 24

// AppendResumeKeyResponse appends SRV_REQUEST_RESUME_KEY Response
// (MS-SMB2 2.2.32.3): the 24-byte key and an empty context.
func AppendResumeKeyResponse(b []byte, key [ResumeKeySize]byte) []byte {
	b = append(b, key[:]...)
	return app32(b, 0) // ContextLength
}

// CopychunkChunk is one SRV_COPYCHUNK (MS-SMB2 2.2.31.1.1).
type CopychunkChunk struct {
	SourceOffset uint64
	TargetOffset uint64
	Length       uint32
}

// CopychunkCopy is SRV_COPYCHUNK_COPY (MS-SMB2 2.2.31.1).
type CopychunkCopy struct {
	SourceKey [ResumeKeySize]byte
	Chunks    []CopychunkChunk
}

// SRV_COPYCHUNK_COPY layout (MS-SMB2 2.2.31.1, 2.2.31.1.1).
const (
	cpkSourceKey   = 0
	cpkChunkCount  = 24
	cpkChunks      = 32
	cpkChunkSize   = 24
	cpkChunkSrcOff = 0
	cpkChunkDstOff = 8
	cpkChunkLength = 16
)

// ParseCopychunkCopy decodes the FSCTL_SRV_COPYCHUNK(_WRITE) input.
func ParseCopychunkCopy(in []byte) (*CopychunkCopy, error) {
	if len(in) < cpkChunks {
		return nil, fmt.Errorf("%w: SRV_COPYCHUNK_COPY of %d bytes", ErrMalformed, len(in))
	}
	n := uint64(le32(in, cpkChunkCount))
	if cpkChunks+cpkChunkSize*n > uint64(len(in)) {
		return nil, fmt.Errorf("%w: SRV_COPYCHUNK_COPY ChunkCount %d overruns %d bytes", ErrMalformed, n, len(in))
	}
	c := &CopychunkCopy{Chunks: make([]CopychunkChunk, n)}
	copy(c.SourceKey[:], in[cpkSourceKey:cpkSourceKey+ResumeKeySize])
	for i := range c.Chunks {
		o := cpkChunks + cpkChunkSize*i
		c.Chunks[i] = CopychunkChunk{
			SourceOffset: le64(in, o+cpkChunkSrcOff),
			TargetOffset: le64(in, o+cpkChunkDstOff),
			Length:       le32(in, o+cpkChunkLength),
		}
	}
	return c, nil
}

// CopychunkResponse is SRV_COPYCHUNK_RESPONSE (MS-SMB2 2.2.32.1).
type CopychunkResponse struct {
	ChunksWritten     uint32
	ChunkBytesWritten uint32
	TotalBytesWritten uint32
}

// Append appends the 12-byte response.
func (r *CopychunkResponse) Append(b []byte) []byte {
	b = app32(b, r.ChunksWritten)
	b = app32(b, r.ChunkBytesWritten)
	return app32(b, r.TotalBytesWritten)
}

// FileObjectIDBuffer is FILE_OBJECTID_BUFFER (MS-FSCC 2.1.3.1), the
// output of FSCTL_GET_OBJECT_ID / FSCTL_CREATE_OR_GET_OBJECT_ID (64 bytes).
type FileObjectIDBuffer struct {
	ObjectID      [16]byte
	BirthVolumeID [16]byte
	BirthObjectID [16]byte
	DomainID      [16]byte
}

// Append appends the 64-byte encoding.
func (o *FileObjectIDBuffer) Append(b []byte) []byte {
	b = append(b, o.ObjectID[:]...)
	b = append(b, o.BirthVolumeID[:]...)
	b = append(b, o.BirthObjectID[:]...)
	return append(b, o.DomainID[:]...)
}

// Network interface capabilities (MS-SMB2 2.2.32.5).
const (
	NetworkInterfaceCapRSS  uint32 = 0x00000001 // RSS_CAPABLE
	NetworkInterfaceCapRDMA uint32 = 0x00000002 // RDMA_CAPABLE
)

// NetworkInterfaceInfo is one NETWORK_INTERFACE_INFO (MS-SMB2 2.2.32.5),
// output of FSCTL_QUERY_NETWORK_INTERFACE_INFO. IP is 4 bytes (IPv4) or 16
// bytes (IPv6).
type NetworkInterfaceInfo struct {
	IfIndex    uint32
	Capability uint32
	LinkSpeed  uint64 // bits per second
	IP         []byte
}

// networkInterfaceInfoSize: Next, IfIndex, Capability, Reserved, LinkSpeed,
// 128-byte SockAddr_Storage.
const networkInterfaceInfoSize = 152

// AppendNetworkInterfaceInfo appends the list, each entry 152 bytes, Next
// pointing at the following one (0 on the last). Entries whose IP is
// neither 4 nor 16 bytes are skipped.
func AppendNetworkInterfaceInfo(b []byte, ifs []NetworkInterfaceInfo) []byte {
	var valid []NetworkInterfaceInfo
	for _, i := range ifs {
		if len(i.IP) == 4 || len(i.IP) == 16 {
			valid = append(valid, i)
		}
	}
	for n, i := range valid {
		next := uint32(networkInterfaceInfoSize)
		if n == len(valid)-1 {
			next = 0
		}
		b = app32(b, next)
		b = app32(b, i.IfIndex)
		b = app32(b, i.Capability)
		b = app32(b, 0)
		b = app64(b, i.LinkSpeed)
		start := len(b)
		if len(i.IP) == 4 {
			b = app16(b, 0x0002) // InterNetwork
			b = app16(b, 0)      // Port
			b = append(b, i.IP...)
		} else {
			b = app16(b, 0x0017) // InterNetworkV6
			b = app16(b, 0)      // Port
			b = app32(b, 0)      // FlowInfo
			b = append(b, i.IP...)
			b = app32(b, 0) // ScopeId
		}
		b = appZero(b, 128-(len(b)-start))
	}
	return b
}
