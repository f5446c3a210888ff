package wire

import "fmt"

// Tree connect request flags (MS-SMB2 2.2.9, 3.1.1 only).
const (
	TreeConnectFlagClusterReconnect uint16 = 0x0001 // SMB2_TREE_CONNECT_FLAG_CLUSTER_RECONNECT
	TreeConnectFlagRedirectToOwner  uint16 = 0x0002 // SMB2_TREE_CONNECT_FLAG_REDIRECT_TO_OWNER
	TreeConnectFlagExtensionPresent uint16 = 0x0004 // SMB2_TREE_CONNECT_FLAG_EXTENSION_PRESENT
)

// Share types (MS-SMB2 2.2.10).
const (
	ShareTypeDisk  uint8 = 0x01 // SMB2_SHARE_TYPE_DISK
	ShareTypePipe  uint8 = 0x02 // SMB2_SHARE_TYPE_PIPE
	ShareTypePrint uint8 = 0x03 // SMB2_SHARE_TYPE_PRINT
)

// Share flags (MS-SMB2 2.2.10).
const (
	ShareFlagManualCaching            uint32 = 0x00000000 // SMB2_SHAREFLAG_MANUAL_CACHING
	ShareFlagAutoCaching              uint32 = 0x00000010 // SMB2_SHAREFLAG_AUTO_CACHING
	ShareFlagVDOCaching               uint32 = 0x00000020 // SMB2_SHAREFLAG_VDO_CACHING
	ShareFlagNoCaching                uint32 = 0x00000030 // SMB2_SHAREFLAG_NO_CACHING
	ShareFlagDFS                      uint32 = 0x00000001 // SMB2_SHAREFLAG_DFS
	ShareFlagDFSRoot                  uint32 = 0x00000002 // SMB2_SHAREFLAG_DFS_ROOT
	ShareFlagRestrictExclusiveOpens   uint32 = 0x00000100 // SMB2_SHAREFLAG_RESTRICT_EXCLUSIVE_OPENS
	ShareFlagForceSharedDelete        uint32 = 0x00000200 // SMB2_SHAREFLAG_FORCE_SHARED_DELETE
	ShareFlagAllowNamespaceCaching    uint32 = 0x00000400 // SMB2_SHAREFLAG_ALLOW_NAMESPACE_CACHING
	ShareFlagAccessBasedDirectoryEnum uint32 = 0x00000800 // SMB2_SHAREFLAG_ACCESS_BASED_DIRECTORY_ENUM
	ShareFlagForceLevelIIOplock       uint32 = 0x00001000 // SMB2_SHAREFLAG_FORCE_LEVELII_OPLOCK
	ShareFlagEnableHashV1             uint32 = 0x00002000 // SMB2_SHAREFLAG_ENABLE_HASH_V1
	ShareFlagEnableHashV2             uint32 = 0x00004000 // SMB2_SHAREFLAG_ENABLE_HASH_V2
	ShareFlagEncryptData              uint32 = 0x00008000 // SMB2_SHAREFLAG_ENCRYPT_DATA
	ShareFlagIdentityRemoting         uint32 = 0x00040000 // SMB2_SHAREFLAG_IDENTITY_REMOTING
	ShareFlagCompressData             uint32 = 0x00100000 // SMB2_SHAREFLAG_COMPRESS_DATA
	ShareFlagIsolatedTransport        uint32 = 0x00200000 // SMB2_SHAREFLAG_ISOLATED_TRANSPORT
)

// Share capabilities (MS-SMB2 2.2.10).
const (
	ShareCapDFS                    uint32 = 0x00000008 // SMB2_SHARE_CAP_DFS
	ShareCapContinuousAvailability uint32 = 0x00000010 // SMB2_SHARE_CAP_CONTINUOUS_AVAILABILITY
	ShareCapScaleout               uint32 = 0x00000020 // SMB2_SHARE_CAP_SCALEOUT
	ShareCapCluster                uint32 = 0x00000040 // SMB2_SHARE_CAP_CLUSTER
	ShareCapAsymmetric             uint32 = 0x00000080 // SMB2_SHARE_CAP_ASYMMETRIC
	ShareCapRedirectToOwner        uint32 = 0x00000100 // SMB2_SHARE_CAP_REDIRECT_TO_OWNER
)

// TREE_CONNECT layouts (MS-SMB2 2.2.9, 2.2.10).
const (
	tcReqStructureSize  = 9
	tcReqFlags          = HeaderSize + 2
	tcReqPathOffset     = HeaderSize + 4
	tcReqPathLength     = HeaderSize + 6
	tcRespStructureSize = 16
)

// TreeConnectRequest is SMB2 TREE_CONNECT Request (MS-SMB2 2.2.9).
type TreeConnectRequest struct {
	Flags uint16
	// Path is the share path, e.g. `\\server\share`, decoded from UTF-16
	// (a trailing NUL, which some clients send, is dropped).
	Path string
}

// ParseTreeConnectRequest decodes an SMB2 TREE_CONNECT request. With
// TreeConnectFlagExtensionPresent (3.1.1) the path is still located by
// PathOffset/PathLength; tree connect contexts are not decoded.
func ParseTreeConnectRequest(msg []byte) (*TreeConnectRequest, error) {
	if err := checkBody(msg, "TREE_CONNECT", tcReqStructureSize); err != nil {
		return nil, err
	}
	p, err := bufferAt(msg, uint32(le16(msg, tcReqPathOffset)), uint32(le16(msg, tcReqPathLength)), "TREE_CONNECT Path")
	if err != nil {
		return nil, err
	}
	path, err := DecodeUTF16(trimUTF16NUL(p))
	if err != nil {
		return nil, fmt.Errorf("TREE_CONNECT Path: %w", err)
	}
	return &TreeConnectRequest{Flags: le16(msg, tcReqFlags), Path: path}, nil
}

// TreeConnectResponse is SMB2 TREE_CONNECT Response (MS-SMB2 2.2.10).
type TreeConnectResponse struct {
	ShareType     uint8
	ShareFlags    uint32
	Capabilities  uint32
	MaximalAccess uint32
}

// Append appends the 16-byte TREE_CONNECT response body.
func (r *TreeConnectResponse) Append(msg []byte) []byte {
	msg = app16(msg, tcRespStructureSize)
	msg = append(msg, r.ShareType, 0)
	msg = app32(msg, r.ShareFlags)
	msg = app32(msg, r.Capabilities)
	return app32(msg, r.MaximalAccess)
}
