package dcerpc

var wkssvcInterface = &iface{
	syntax: syntaxWkssvc,
	ops: map[uint16]opFunc{
		opNetrWkstaGetInfo: netrWkstaGetInfo,
	},
}

// netrWkstaGetInfo serves NetrWkstaGetInfo (wkssvc opnum 0, MS-WKST
// 3.2.4.1) at level 100:
//
//	unsigned long NetrWkstaGetInfo(
//	  [in,string,unique] WKSSVC_IDENTIFY_HANDLE ServerName,
//	  [in] unsigned long Level,
//	  [out,switch_is(Level)] LPWKSTA_INFO WkstaInfo);
//
// Levels 101, 102 and 502 (the union's other arms) get a NULL pointer and
// ERROR_INVALID_LEVEL.
func netrWkstaGetInfo(env *callEnv, r *ndrReader) ([]byte, error) {
	r.uniqueString()
	level := r.uint32()
	if r.err != nil {
		return nil, r.err
	}
	w := newNDRWriter(nil)
	w.uint32(level)
	status := werrOK
	switch level {
	case 100: // WKSTA_INFO_100: platform_id, computername, langroup, ver_major, ver_minor
		si := env.backend.Server()
		domain := si.Domain
		if domain == "" {
			domain = defaultWorkgroup
		}
		w.pointer(true)
		w.record("DSSDD", []value{dword(platformIDNT), str(si.Name), str(domain),
			dword(si.VersionMajor), dword(si.VersionMinor)})
	case 101, 102, 502:
		w.pointer(false)
		status = werrInvalidLevel
	default:
		status = werrInvalidLevel
	}
	w.uint32(status)
	return w.b, nil
}
