package wire

import "fmt"

// Create context names (MS-SMB2 2.2.13.2, 2.2.14.2). Four-character tags;
// the App instance contexts use 16-byte GUID names.
const (
	CreateContextEABuffer                 = "ExtA" // SMB2_CREATE_EA_BUFFER
	CreateContextSDBuffer                 = "SecD" // SMB2_CREATE_SD_BUFFER
	CreateContextDurableHandleRequest     = "DHnQ" // SMB2_CREATE_DURABLE_HANDLE_REQUEST
	CreateContextDurableHandleReconnect   = "DHnC" // SMB2_CREATE_DURABLE_HANDLE_RECONNECT
	CreateContextAllocationSize           = "AlSi" // SMB2_CREATE_ALLOCATION_SIZE
	CreateContextQueryMaximalAccess       = "MxAc" // SMB2_CREATE_QUERY_MAXIMAL_ACCESS_REQUEST
	CreateContextTimewarpToken            = "TWrp" // SMB2_CREATE_TIMEWARP_TOKEN
	CreateContextQueryOnDiskID            = "QFid" // SMB2_CREATE_QUERY_ON_DISK_ID
	CreateContextRequestLease             = "RqLs" // SMB2_CREATE_REQUEST_LEASE (v1 and v2)
	CreateContextDurableHandleRequestV2   = "DH2Q" // SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2
	CreateContextDurableHandleReconnectV2 = "DH2C" // SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2
	// SMB2_CREATE_APP_INSTANCE_ID, GUID 45BCA66A-EFA7-F74A-9008-FA462E144D74 as wire bytes.
	CreateContextAppInstanceID = "\x45\xBC\xA6\x6A\xEF\xA7\xF7\x4A\x90\x08\xFA\x46\x2E\x14\x4D\x74"
	// SMB2_CREATE_APP_INSTANCE_VERSION, GUID B982D0B7-3B56-074F-A07B-524A8116A010 as wire bytes.
	CreateContextAppInstanceVersion = "\xB9\x82\xD0\xB7\x3B\x56\x07\x4F\xA0\x7B\x52\x4A\x81\x16\xA0\x10"
)

// Create context header layout (MS-SMB2 2.2.13.2).
const (
	ccNext       = 0
	ccNameOffset = 4
	ccNameLength = 6
	ccDataOffset = 10
	ccDataLength = 12
	ccHeaderSize = 16
)

// CreateContext is one SMB2_CREATE_CONTEXT (MS-SMB2 2.2.13.2). Name is the
// raw name bytes as a string (e.g. "MxAc"); in a parsed request Data aliases
// the message.
type CreateContext struct {
	Name string
	Data []byte
}

// ParseCreateContexts decodes a create context chain (the bytes at
// CreateContextsOffset, CreateContextsLength long). Every Next, name and
// data range is checked against the context that holds it.
func ParseCreateContexts(b []byte) ([]CreateContext, error) {
	var out []CreateContext
	for off := 0; ; {
		rest := b[off:]
		if len(rest) < ccHeaderSize {
			return nil, fmt.Errorf("%w: create context at %d: %d bytes left, need %d", ErrMalformed, off, len(rest), ccHeaderSize)
		}
		next := le32(rest, ccNext)
		size := uint64(len(rest))
		if next != 0 {
			if next%8 != 0 || next < ccHeaderSize || uint64(next) > size {
				return nil, fmt.Errorf("%w: create context at %d: Next %d", ErrMalformed, off, next)
			}
			size = uint64(next)
		}
		no, nl := uint64(le16(rest, ccNameOffset)), uint64(le16(rest, ccNameLength))
		do, dl := uint64(le16(rest, ccDataOffset)), uint64(le32(rest, ccDataLength))
		if nl == 0 || no < ccHeaderSize || no+nl > size {
			return nil, fmt.Errorf("%w: create context at %d: name offset %d length %d", ErrMalformed, off, no, nl)
		}
		c := CreateContext{Name: string(rest[no : no+nl])}
		if dl != 0 {
			if do < ccHeaderSize || do+dl > size {
				return nil, fmt.Errorf("%w: create context %q: data offset %d length %d", ErrMalformed, c.Name, do, dl)
			}
			c.Data = rest[do : do+dl : do+dl]
		}
		out = append(out, c)
		if next == 0 {
			return out, nil
		}
		off += int(next)
	}
}

// AppendCreateContexts appends the chain of contexts to b. The first
// context starts at len(b), which the caller has 8-aligned relative to the
// header; each context puts its name at offset 16 and its data 8-aligned,
// and the next context starts 8-aligned.
func AppendCreateContexts(b []byte, ctxs []CreateContext) []byte {
	for i, c := range ctxs {
		start := len(b)
		nameOff := ccHeaderSize
		dataOff := 0
		if len(c.Data) > 0 {
			dataOff = align8(nameOff + len(c.Name))
		}
		b = app32(b, 0) // Next, patched below
		b = app16(b, uint16(nameOff))
		b = app16(b, uint16(len(c.Name)))
		b = app16(b, 0)
		b = app16(b, uint16(dataOff))
		b = app32(b, uint32(len(c.Data)))
		b = append(b, c.Name...)
		if len(c.Data) > 0 {
			b = pad8(b, start)
			b = append(b, c.Data...)
		}
		if i < len(ctxs)-1 {
			b = pad8(b, start)
			putLE32(b, start, uint32(len(b)-start))
		}
	}
	return b
}

// MaximalAccessRequest is SMB2_CREATE_QUERY_MAXIMAL_ACCESS_REQUEST
// (MS-SMB2 2.2.13.2.5): an optional FILETIME.
type MaximalAccessRequest struct {
	HasTimestamp bool
	Timestamp    uint64
}

// ParseMaximalAccessRequest decodes MxAc request data (0 or 8 bytes).
func ParseMaximalAccessRequest(data []byte) (*MaximalAccessRequest, error) {
	switch len(data) {
	case 0:
		return &MaximalAccessRequest{}, nil
	case 8:
		return &MaximalAccessRequest{HasTimestamp: true, Timestamp: le64(data, 0)}, nil
	}
	return nil, fmt.Errorf("%w: MxAc data of %d bytes", ErrMalformed, len(data))
}

// MaximalAccessResponse is SMB2_CREATE_QUERY_MAXIMAL_ACCESS_RESPONSE
// (MS-SMB2 2.2.14.2.5).
type MaximalAccessResponse struct {
	QueryStatus   Status
	MaximalAccess uint32
}

// Append appends the 8-byte MxAc response data.
func (r *MaximalAccessResponse) Append(b []byte) []byte {
	b = app32(b, uint32(r.QueryStatus))
	return app32(b, r.MaximalAccess)
}

// QueryOnDiskIDResponse is SMB2_CREATE_QUERY_ON_DISK_ID response data
// (MS-SMB2 2.2.14.2.9): 32 bytes.
type QueryOnDiskIDResponse struct {
	DiskFileID uint64
	VolumeID   uint64
}

// Append appends the 32-byte QFid response data.
func (r *QueryOnDiskIDResponse) Append(b []byte) []byte {
	b = app64(b, r.DiskFileID)
	b = app64(b, r.VolumeID)
	return appZero(b, 16)
}

// ParseDurableHandleRequest checks DHnQ request data (MS-SMB2 2.2.13.2.3):
// 16 reserved bytes.
func ParseDurableHandleRequest(data []byte) error {
	if len(data) != 16 {
		return fmt.Errorf("%w: DHnQ data of %d bytes, want 16", ErrMalformed, len(data))
	}
	return nil
}

// AppendDurableHandleResponse appends DHnQ response data (MS-SMB2
// 2.2.14.2.3): 8 reserved bytes.
func AppendDurableHandleResponse(b []byte) []byte { return appZero(b, 8) }

// ParseDurableHandleReconnect decodes DHnC request data (MS-SMB2
// 2.2.13.2.4): the FileID of the durable open.
func ParseDurableHandleReconnect(data []byte) (FileID, error) {
	if len(data) != 16 {
		return FileID{}, fmt.Errorf("%w: DHnC data of %d bytes, want 16", ErrMalformed, len(data))
	}
	return readFileID(data, 0), nil
}

// Durable handle v2 flags (MS-SMB2 2.2.13.2.11, 2.2.14.2.12).
const DurableHandleFlagPersistent uint32 = 0x00000002 // SMB2_DHANDLE_FLAG_PERSISTENT

// DurableHandleRequestV2 is SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2
// (MS-SMB2 2.2.13.2.11).
type DurableHandleRequestV2 struct {
	Timeout    uint32 // milliseconds
	Flags      uint32
	CreateGUID [16]byte
}

// ParseDurableHandleRequestV2 decodes DH2Q request data (32 bytes).
func ParseDurableHandleRequestV2(data []byte) (*DurableHandleRequestV2, error) {
	if len(data) != 32 {
		return nil, fmt.Errorf("%w: DH2Q data of %d bytes, want 32", ErrMalformed, len(data))
	}
	r := &DurableHandleRequestV2{Timeout: le32(data, 0), Flags: le32(data, 4)}
	copy(r.CreateGUID[:], data[16:32])
	return r, nil
}

// Append appends the 32-byte DH2Q request data.
func (r *DurableHandleRequestV2) Append(b []byte) []byte {
	b = app32(b, r.Timeout)
	b = app32(b, r.Flags)
	b = appZero(b, 8)
	return append(b, r.CreateGUID[:]...)
}

// DurableHandleResponseV2 is SMB2_CREATE_DURABLE_HANDLE_RESPONSE_V2
// (MS-SMB2 2.2.14.2.12).
type DurableHandleResponseV2 struct {
	Timeout uint32
	Flags   uint32
}

// Append appends the 8-byte DH2Q response data.
func (r *DurableHandleResponseV2) Append(b []byte) []byte {
	b = app32(b, r.Timeout)
	return app32(b, r.Flags)
}

// DurableHandleReconnectV2 is SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2
// (MS-SMB2 2.2.13.2.12).
type DurableHandleReconnectV2 struct {
	FileID     FileID
	CreateGUID [16]byte
	Flags      uint32
}

// ParseDurableHandleReconnectV2 decodes DH2C request data (36 bytes).
func ParseDurableHandleReconnectV2(data []byte) (*DurableHandleReconnectV2, error) {
	if len(data) != 36 {
		return nil, fmt.Errorf("%w: DH2C data of %d bytes, want 36", ErrMalformed, len(data))
	}
	r := &DurableHandleReconnectV2{FileID: readFileID(data, 0), Flags: le32(data, 32)}
	copy(r.CreateGUID[:], data[16:32])
	return r, nil
}

// Lease states (MS-SMB2 2.2.13.2.8).
const (
	LeaseNone          uint32 = 0x00 // SMB2_LEASE_NONE
	LeaseReadCaching   uint32 = 0x01 // SMB2_LEASE_READ_CACHING
	LeaseHandleCaching uint32 = 0x02 // SMB2_LEASE_HANDLE_CACHING
	LeaseWriteCaching  uint32 = 0x04 // SMB2_LEASE_WRITE_CACHING
)

// Lease flags (MS-SMB2 2.2.13.2.8, 2.2.13.2.10).
const (
	LeaseFlagBreakInProgress   uint32 = 0x00000002 // SMB2_LEASE_FLAG_BREAK_IN_PROGRESS
	LeaseFlagParentLeaseKeySet uint32 = 0x00000004 // SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET
)

// Lease context sizes.
const (
	LeaseV1Size = 32 // SMB2_CREATE_REQUEST_LEASE (2.2.13.2.8)
	LeaseV2Size = 52 // SMB2_CREATE_REQUEST_LEASE_V2 (2.2.13.2.10)
)

// Lease is the RqLs create context, request and response alike
// (MS-SMB2 2.2.13.2.8, 2.2.13.2.10, 2.2.14.2.10, 2.2.14.2.11).
// Version is 1 (32 bytes) or 2 (52 bytes: ParentLeaseKey, Epoch).
type Lease struct {
	Version        int
	LeaseKey       [16]byte
	LeaseState     uint32
	LeaseFlags     uint32
	LeaseDuration  uint64
	ParentLeaseKey [16]byte
	Epoch          uint16
}

// ParseLease decodes RqLs data; the length chooses the version.
func ParseLease(data []byte) (*Lease, error) {
	if len(data) != LeaseV1Size && len(data) != LeaseV2Size {
		return nil, fmt.Errorf("%w: RqLs data of %d bytes, want %d or %d", ErrMalformed, len(data), LeaseV1Size, LeaseV2Size)
	}
	l := &Lease{Version: 1, LeaseState: le32(data, 16), LeaseFlags: le32(data, 20), LeaseDuration: le64(data, 24)}
	copy(l.LeaseKey[:], data[0:16])
	if len(data) == LeaseV2Size {
		l.Version = 2
		copy(l.ParentLeaseKey[:], data[32:48])
		l.Epoch = le16(data, 48)
	}
	return l, nil
}

// Append appends the lease in its Version's layout (2 = 52 bytes, anything
// else = 32 bytes).
func (l *Lease) Append(b []byte) []byte {
	b = append(b, l.LeaseKey[:]...)
	b = app32(b, l.LeaseState)
	b = app32(b, l.LeaseFlags)
	b = app64(b, l.LeaseDuration)
	if l.Version == 2 {
		b = append(b, l.ParentLeaseKey[:]...)
		b = app16(b, l.Epoch)
		b = app16(b, 0)
	}
	return b
}

// ParseAllocationSize decodes AlSi data (MS-SMB2 2.2.13.2.6): 8 bytes.
func ParseAllocationSize(data []byte) (uint64, error) {
	if len(data) != 8 {
		return 0, fmt.Errorf("%w: AlSi data of %d bytes, want 8", ErrMalformed, len(data))
	}
	return le64(data, 0), nil
}

// ParseTimewarpToken decodes TWrp data (MS-SMB2 2.2.13.2.7): a FILETIME.
func ParseTimewarpToken(data []byte) (uint64, error) {
	if len(data) != 8 {
		return 0, fmt.Errorf("%w: TWrp data of %d bytes, want 8", ErrMalformed, len(data))
	}
	return le64(data, 0), nil
}

// ParseAppInstanceID decodes SMB2_CREATE_APP_INSTANCE_ID data
// (MS-SMB2 2.2.13.2.13): StructureSize 20, Reserved, 16-byte id.
func ParseAppInstanceID(data []byte) ([16]byte, error) {
	var id [16]byte
	if len(data) != 20 || le16(data, 0) != 20 {
		return id, fmt.Errorf("%w: AppInstanceId data of %d bytes", ErrMalformed, len(data))
	}
	copy(id[:], data[4:20])
	return id, nil
}
