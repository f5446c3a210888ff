package dcerpc

import "strings"

// netrShareGetInfo serves NetrShareGetInfo (opnum 16, MS-SRVS 3.1.4.10):
//
//	NET_API_STATUS NetrShareGetInfo(
//	  [in,string,unique] SRVSVC_HANDLE ServerName,
//	  [in,string] WCHAR* NetName,
//	  [in] DWORD Level,
//	  [out,switch_is(Level)] LPSHARE_INFO InfoStruct);
//
// Shares the user may not see are reported as not found.
func netrShareGetInfo(env *callEnv, r *ndrReader) ([]byte, error) {
	r.uniqueString()
	netName := r.string()
	level := r.uint32()
	if r.err != nil {
		return nil, r.err
	}

	w := newNDRWriter(nil)
	w.uint32(level) // union discriminant
	layout, hasArm := shareLayouts[level]
	status := werrOK
	var share *Share
	if shareLevelServed(level, false) {
		for _, s := range env.backend.Shares(env.user) {
			if strings.EqualFold(s.Name, netName) {
				share = &s
				break
			}
		}
		if share == nil {
			status = werrNetNameNotFound
		}
	} else {
		status = werrInvalidLevel
	}
	if hasArm {
		w.pointer(share != nil)
		if share != nil {
			w.record(layout, shareRecord(level, *share))
		}
	}
	w.uint32(status)
	return w.b, nil
}
