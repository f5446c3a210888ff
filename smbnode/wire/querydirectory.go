package wire

import "fmt"

// Query directory flags (MS-SMB2 2.2.33).
const (
	QueryDirRestartScans      uint8 = 0x01 // SMB2_RESTART_SCANS
	QueryDirReturnSingleEntry uint8 = 0x02 // SMB2_RETURN_SINGLE_ENTRY
	QueryDirIndexSpecified    uint8 = 0x04 // SMB2_INDEX_SPECIFIED
	QueryDirReopen            uint8 = 0x10 // SMB2_REOPEN
)

// QUERY_DIRECTORY layouts (MS-SMB2 2.2.33, 2.2.34).
const (
	qdReqStructureSize  = 33
	qdReqInfoClass      = HeaderSize + 2
	qdReqFlags          = HeaderSize + 3
	qdReqFileIndex      = HeaderSize + 4
	qdReqFileID         = HeaderSize + 8
	qdReqNameOffset     = HeaderSize + 24
	qdReqNameLength     = HeaderSize + 26
	qdReqOutputLength   = HeaderSize + 28
	qdRespStructureSize = 9
)

// QueryDirectoryRequest is SMB2 QUERY_DIRECTORY Request (MS-SMB2 2.2.33).
type QueryDirectoryRequest struct {
	InfoClass          uint8 // FileInformationClass, e.g. FileIdBothDirectoryInformation
	Flags              uint8
	FileIndex          uint32
	FileID             FileID
	Pattern            string // search pattern, e.g. "*"; "" if absent
	OutputBufferLength uint32
}

// ParseQueryDirectoryRequest decodes an SMB2 QUERY_DIRECTORY request.
func ParseQueryDirectoryRequest(msg []byte) (*QueryDirectoryRequest, error) {
	if err := checkBody(msg, "QUERY_DIRECTORY", qdReqStructureSize); err != nil {
		return nil, err
	}
	nb, err := bufferAt(msg, uint32(le16(msg, qdReqNameOffset)), uint32(le16(msg, qdReqNameLength)), "QUERY_DIRECTORY FileName")
	if err != nil {
		return nil, err
	}
	pat, err := DecodeUTF16(nb)
	if err != nil {
		return nil, fmt.Errorf("QUERY_DIRECTORY FileName: %w", err)
	}
	return &QueryDirectoryRequest{
		InfoClass:          msg[qdReqInfoClass],
		Flags:              msg[qdReqFlags],
		FileIndex:          le32(msg, qdReqFileIndex),
		FileID:             readFileID(msg, qdReqFileID),
		Pattern:            pat,
		OutputBufferLength: le32(msg, qdReqOutputLength),
	}, nil
}

// QueryDirectoryResponse is SMB2 QUERY_DIRECTORY Response (MS-SMB2 2.2.34);
// Buffer holds directory entries built with a DirEntryWriter.
type QueryDirectoryResponse struct {
	Buffer []byte
}

// Append appends the QUERY_DIRECTORY response body; the header must be the
// last 64 bytes of msg.
func (r *QueryDirectoryResponse) Append(msg []byte) []byte {
	return appendOutputBuffer(msg, qdRespStructureSize, r.Buffer)
}
