package dcerpc

// Share types (MS-SRVS 2.2.2.4), the Share.Type values a Backend reports.
const (
	ShareTypeDiskTree  uint32 = 0x00000000 // STYPE_DISKTREE
	ShareTypePrintQ    uint32 = 0x00000001 // STYPE_PRINTQ
	ShareTypeDevice    uint32 = 0x00000002 // STYPE_DEVICE
	ShareTypeIPC       uint32 = 0x00000003 // STYPE_IPC
	ShareTypeSpecial   uint32 = 0x80000000 // STYPE_SPECIAL: administrative share (IPC$, C$)
	ShareTypeIPCHidden        = ShareTypeIPC | ShareTypeSpecial
)

// Share is one share as srvsvc reports it.
type Share struct {
	Name    string // e.g. "data", "IPC$"
	Comment string // remark; may be empty
	// Path is the directory on the server; it is reported (Windows style,
	// "C:" + path with backslashes) only at info levels 2 and 502. Leave it
	// empty to report no path.
	Path string
	Type uint32 // ShareTypeDiskTree, or ShareTypeIPCHidden for IPC$
}

// ServerInfo describes the server for NetrServerGetInfo and
// NetrWkstaGetInfo.
type ServerInfo struct {
	Name         string // NetBIOS-style host name, e.g. "NODE1"
	Comment      string // server comment, e.g. "Shoal"
	Domain       string // workgroup or domain name; empty reports "WORKGROUP"
	VersionMajor uint32 // reported OS version, e.g. 6 (Samba reports 6.1)
	VersionMinor uint32
}

// Backend answers the questions the srvsvc and wkssvc calls ask. It is
// implemented by the SMB server. Its methods are called concurrently from
// every open pipe, must be safe for that, must not block for long, and must
// return slices the caller may keep (the package never modifies them).
type Backend interface {
	// Shares returns the shares user may see, including IPC$, in the order
	// they should be listed.
	Shares(user string) []Share
	// Server returns the server's identity.
	Server() ServerInfo
}
