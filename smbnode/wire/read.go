package wire

// Read request flags (MS-SMB2 2.2.19).
const (
	ReadFlagUnbuffered        uint8 = 0x01 // SMB2_READFLAG_READ_UNBUFFERED
	ReadFlagRequestCompressed uint8 = 0x02 // SMB2_READFLAG_REQUEST_COMPRESSED
)

// Channel values (MS-SMB2 2.2.19, 2.2.21).
const (
	ChannelNone             uint32 = 0x00000000 // SMB2_CHANNEL_NONE
	ChannelRDMAV1           uint32 = 0x00000001 // SMB2_CHANNEL_RDMA_V1
	ChannelRDMAV1Invalidate uint32 = 0x00000002 // SMB2_CHANNEL_RDMA_V1_INVALIDATE
	ChannelRDMATransform    uint32 = 0x00000003 // SMB2_CHANNEL_RDMA_TRANSFORM
)

// READ layouts (MS-SMB2 2.2.19, 2.2.20).
const (
	readReqStructureSize = 49
	readReqPadding       = HeaderSize + 2
	readReqFlags         = HeaderSize + 3
	readReqLength        = HeaderSize + 4
	readReqOffset        = HeaderSize + 8
	readReqFileID        = HeaderSize + 16
	readReqMinimumCount  = HeaderSize + 32
	readReqChannel       = HeaderSize + 36
	readReqRemaining     = HeaderSize + 40
	readReqChanInfoOff   = HeaderSize + 44
	readReqChanInfoLen   = HeaderSize + 46

	readRespStructureSize = 17
	// ReadResponseDataOffset is where READ response data starts, from the
	// header start (0x50): a server may read file data straight into
	// msg[hdr+ReadResponseDataOffset:].
	ReadResponseDataOffset = HeaderSize + 16
)

// ReadRequest is SMB2 READ Request (MS-SMB2 2.2.19).
type ReadRequest struct {
	Padding         uint8
	Flags           uint8
	Length          uint32
	Offset          uint64
	FileID          FileID
	MinimumCount    uint32
	Channel         uint32
	RemainingBytes  uint32
	ReadChannelInfo []byte // aliases msg; empty unless Channel is RDMA
}

// ParseReadRequest decodes an SMB2 READ request.
func ParseReadRequest(msg []byte) (*ReadRequest, error) {
	if err := checkBody(msg, "READ", readReqStructureSize); err != nil {
		return nil, err
	}
	ci, err := bufferAt(msg, uint32(le16(msg, readReqChanInfoOff)), uint32(le16(msg, readReqChanInfoLen)), "READ ReadChannelInfo")
	if err != nil {
		return nil, err
	}
	return &ReadRequest{
		Padding:         msg[readReqPadding],
		Flags:           msg[readReqFlags],
		Length:          le32(msg, readReqLength),
		Offset:          le64(msg, readReqOffset),
		FileID:          readFileID(msg, readReqFileID),
		MinimumCount:    le32(msg, readReqMinimumCount),
		Channel:         le32(msg, readReqChannel),
		RemainingBytes:  le32(msg, readReqRemaining),
		ReadChannelInfo: ci,
	}, nil
}

// ReadResponse is SMB2 READ Response (MS-SMB2 2.2.20).
type ReadResponse struct {
	Data          []byte
	DataRemaining uint32
}

// Append appends the READ response body with Data at offset 0x50 from the
// header.
func (r *ReadResponse) Append(msg []byte) []byte {
	msg = AppendReadResponseHeader(msg, uint32(len(r.Data)), r.DataRemaining)
	if len(r.Data) == 0 {
		return append(msg, 0)
	}
	return append(msg, r.Data...)
}

// AppendReadResponseHeader appends only the 16 fixed bytes of a READ
// response announcing dataLen bytes; the caller appends the data itself
// (lets a server read from the file straight into the packet buffer).
func AppendReadResponseHeader(msg []byte, dataLen, dataRemaining uint32) []byte {
	msg = app16(msg, readRespStructureSize)
	msg = append(msg, ReadResponseDataOffset, 0)
	msg = app32(msg, dataLen)
	msg = app32(msg, dataRemaining)
	return app32(msg, 0) // Flags/Reserved2
}
