package wire

// Info types (MS-SMB2 2.2.37).
const (
	InfoTypeFile       uint8 = 0x01 // SMB2_0_INFO_FILE
	InfoTypeFilesystem uint8 = 0x02 // SMB2_0_INFO_FILESYSTEM
	InfoTypeSecurity   uint8 = 0x03 // SMB2_0_INFO_SECURITY
	InfoTypeQuota      uint8 = 0x04 // SMB2_0_INFO_QUOTA
)

// Security information flags, the AdditionalInformation of a security
// QUERY_INFO / SET_INFO (MS-SMB2 2.2.37, MS-DTYP 2.4.7).
const (
	OwnerSecurityInformation     uint32 = 0x00000001 // OWNER_SECURITY_INFORMATION
	GroupSecurityInformation     uint32 = 0x00000002 // GROUP_SECURITY_INFORMATION
	DACLSecurityInformation      uint32 = 0x00000004 // DACL_SECURITY_INFORMATION
	SACLSecurityInformation      uint32 = 0x00000008 // SACL_SECURITY_INFORMATION
	LabelSecurityInformation     uint32 = 0x00000010 // LABEL_SECURITY_INFORMATION
	AttributeSecurityInformation uint32 = 0x00000020 // ATTRIBUTE_SECURITY_INFORMATION
	ScopeSecurityInformation     uint32 = 0x00000040 // SCOPE_SECURITY_INFORMATION
	BackupSecurityInformation    uint32 = 0x00010000 // BACKUP_SECURITY_INFORMATION
)

// Query info flags (MS-SMB2 2.2.37, FileFullEaInformation queries).
const (
	SLRestartScan       uint32 = 0x00000001 // SL_RESTART_SCAN
	SLReturnSingleEntry uint32 = 0x00000002 // SL_RETURN_SINGLE_ENTRY
	SLIndexSpecified    uint32 = 0x00000004 // SL_INDEX_SPECIFIED
)

// QUERY_INFO layouts (MS-SMB2 2.2.37, 2.2.38).
const (
	qiReqStructureSize  = 41
	qiReqInfoType       = HeaderSize + 2
	qiReqInfoClass      = HeaderSize + 3
	qiReqOutputLength   = HeaderSize + 4
	qiReqInputOffset    = HeaderSize + 8
	qiReqInputLength    = HeaderSize + 12
	qiReqAdditionalInfo = HeaderSize + 16
	qiReqFlags          = HeaderSize + 20
	qiReqFileID         = HeaderSize + 24
	qiRespStructureSize = 9
)

// QueryInfoRequest is SMB2 QUERY_INFO Request (MS-SMB2 2.2.37).
type QueryInfoRequest struct {
	InfoType              uint8
	InfoClass             uint8 // FileInfoClass; 0 for security queries
	OutputBufferLength    uint32
	Input                 []byte // aliases msg (EA name list, quota SIDs)
	AdditionalInformation uint32
	Flags                 uint32
	FileID                FileID
}

// ParseQueryInfoRequest decodes an SMB2 QUERY_INFO request.
func ParseQueryInfoRequest(msg []byte) (*QueryInfoRequest, error) {
	if err := checkBody(msg, "QUERY_INFO", qiReqStructureSize); err != nil {
		return nil, err
	}
	in, err := bufferAt(msg, uint32(le16(msg, qiReqInputOffset)), le32(msg, qiReqInputLength), "QUERY_INFO InputBuffer")
	if err != nil {
		return nil, err
	}
	return &QueryInfoRequest{
		InfoType:              msg[qiReqInfoType],
		InfoClass:             msg[qiReqInfoClass],
		OutputBufferLength:    le32(msg, qiReqOutputLength),
		Input:                 in,
		AdditionalInformation: le32(msg, qiReqAdditionalInfo),
		Flags:                 le32(msg, qiReqFlags),
		FileID:                readFileID(msg, qiReqFileID),
	}, nil
}

// QueryInfoResponse is SMB2 QUERY_INFO Response (MS-SMB2 2.2.38).
type QueryInfoResponse struct {
	Buffer []byte
}

// Append appends the QUERY_INFO response body; the header must be the last
// 64 bytes of msg.
func (r *QueryInfoResponse) Append(msg []byte) []byte {
	return appendOutputBuffer(msg, qiRespStructureSize, r.Buffer)
}
