package dcerpc

import "strings"

// srvsvc operation numbers (MS-SRVS 3.1.4).
const (
	opNetrShareEnum      = 15
	opNetrShareGetInfo   = 16
	opNetrServerGetInfo  = 21
	opNetrWkstaGetInfo   = 0 // wkssvc (MS-WKST 3.2.4.1)
	platformIDNT         = 500
	serverTypeShoal      = 0x00009003 // SV_TYPE_WORKSTATION|SV_TYPE_SERVER|SV_TYPE_NT|SV_TYPE_SERVER_NT
	defaultWorkgroup     = "WORKGROUP"
	maxUsesUnlimited     = 0xffffffff // SHI_USES_UNLIMITED
	cscPolicyManualReint = 0          // CSC_CACHE_MANUAL_REINT in shi501_flags/shi1005_flags
)

var srvsvcInterface = &iface{
	syntax: syntaxSrvsvc,
	ops: map[uint16]opFunc{
		opNetrShareEnum:     netrShareEnum,
		opNetrShareGetInfo:  netrShareGetInfo,
		opNetrServerGetInfo: netrServerGetInfo,
	},
}

// shareLayouts are the SHARE_INFO_* structures (MS-SRVS 2.2.4.22 ff.) that
// the SHARE_ENUM_UNION and SHARE_INFO unions have arms for. Levels served
// are in shareLevelServed; the others are decoded (a client may send an
// array in the [in,out] container) and answered ERROR_INVALID_LEVEL.
var shareLayouts = map[uint32]string{
	0:    "S",           // netname
	1:    "SDS",         // netname, type, remark
	2:    "SDSDDDSS",    // + permissions, max_uses, current_uses, path, passwd
	501:  "SDSD",        // netname, type, remark, flags
	502:  "SDSDDDSSDB",  // level 2 + reserved (sd length), security_descriptor
	503:  "SDSDDDSSSDB", // level 502 with servername before reserved
	1004: "S",           // remark
	1005: "D",           // flags
	1006: "D",           // max_uses
	1007: "DS",          // flags, alternate_directory_name
	1501: "DB",          // sd length, security_descriptor
}

// shareLevelServed reports whether a share info level is answered with data
// by NetrShareEnum (enum) or NetrShareGetInfo (!enum).
func shareLevelServed(level uint32, enum bool) bool {
	switch level {
	case 0, 1, 2, 501, 502:
		return true
	case 1005:
		return !enum
	}
	return false
}

// shareRecord returns a share's fields for layout shareLayouts[level].
func shareRecord(level uint32, s Share) []value {
	name, typ, remark := str(s.Name), dword(s.Type), str(s.Comment)
	switch level {
	case 0:
		return []value{name}
	case 1:
		return []value{name, typ, remark}
	case 2:
		return []value{name, typ, remark, dword(0), dword(maxUsesUnlimited), dword(0), str(windowsPath(s.Path)), nullPtr()}
	case 501:
		return []value{name, typ, remark, dword(cscPolicyManualReint)}
	case 502:
		return []value{name, typ, remark, dword(0), dword(maxUsesUnlimited), dword(0), str(windowsPath(s.Path)), nullPtr(), dword(0), nullPtr()}
	case 1005:
		return []value{dword(cscPolicyManualReint)}
	}
	return nil
}

// windowsPath presents a server path the way Windows tools expect
// ("C:\srv\data" for "/srv/data"), as Samba does.
func windowsPath(p string) string {
	if p == "" {
		return ""
	}
	p = strings.ReplaceAll(p, "/", `\`)
	if strings.HasPrefix(p, `\`) {
		p = "C:" + p
	}
	return p
}

// readUnionLevel reads the level parameter and the discriminant NDR puts
// before a non-encapsulated union switched on it; they must agree.
func readUnionLevel(r *ndrReader) uint32 {
	level := r.uint32()
	disc := r.uint32()
	if r.err == nil && disc != level {
		r.fail("union discriminant %d for level %d", disc, level)
	}
	return level
}
