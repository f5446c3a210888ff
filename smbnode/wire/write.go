package wire

// Write request flags (MS-SMB2 2.2.21).
const (
	WriteFlagWriteThrough    uint32 = 0x00000001 // SMB2_WRITEFLAG_WRITE_THROUGH
	WriteFlagWriteUnbuffered uint32 = 0x00000002 // SMB2_WRITEFLAG_WRITE_UNBUFFERED
)

// WRITE layouts (MS-SMB2 2.2.21, 2.2.22).
const (
	writeReqStructureSize = 49
	writeReqDataOffset    = HeaderSize + 2
	writeReqLength        = HeaderSize + 4
	writeReqOffset        = HeaderSize + 8
	writeReqFileID        = HeaderSize + 16
	writeReqChannel       = HeaderSize + 32
	writeReqRemaining     = HeaderSize + 36
	writeReqChanInfoOff   = HeaderSize + 40
	writeReqChanInfoLen   = HeaderSize + 42
	writeReqFlags         = HeaderSize + 44

	writeRespStructureSize = 17
)

// WriteRequest is SMB2 WRITE Request (MS-SMB2 2.2.21).
type WriteRequest struct {
	Offset           uint64
	FileID           FileID
	Channel          uint32
	RemainingBytes   uint32
	Flags            uint32
	Data             []byte // aliases msg
	WriteChannelInfo []byte // aliases msg
}

// ParseWriteRequest decodes an SMB2 WRITE request; Data is the slice of msg
// at DataOffset, Length bytes long.
func ParseWriteRequest(msg []byte) (*WriteRequest, error) {
	if err := checkBody(msg, "WRITE", writeReqStructureSize); err != nil {
		return nil, err
	}
	data, err := bufferAt(msg, uint32(le16(msg, writeReqDataOffset)), le32(msg, writeReqLength), "WRITE Data")
	if err != nil {
		return nil, err
	}
	ci, err := bufferAt(msg, uint32(le16(msg, writeReqChanInfoOff)), uint32(le16(msg, writeReqChanInfoLen)), "WRITE WriteChannelInfo")
	if err != nil {
		return nil, err
	}
	return &WriteRequest{
		Offset:           le64(msg, writeReqOffset),
		FileID:           readFileID(msg, writeReqFileID),
		Channel:          le32(msg, writeReqChannel),
		RemainingBytes:   le32(msg, writeReqRemaining),
		Flags:            le32(msg, writeReqFlags),
		Data:             data,
		WriteChannelInfo: ci,
	}, nil
}

// WriteResponse is SMB2 WRITE Response (MS-SMB2 2.2.22).
type WriteResponse struct {
	Count     uint32
	Remaining uint32
}

// Append appends the 16-byte WRITE response body.
func (r *WriteResponse) Append(msg []byte) []byte {
	msg = app16(msg, writeRespStructureSize)
	msg = app16(msg, 0)
	msg = app32(msg, r.Count)
	msg = app32(msg, r.Remaining)
	msg = app16(msg, 0)  // WriteChannelInfoOffset
	return app16(msg, 0) // WriteChannelInfoLength
}
