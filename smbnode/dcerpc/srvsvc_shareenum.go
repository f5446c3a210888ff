package dcerpc

// netrShareEnum serves NetrShareEnum (opnum 15, MS-SRVS 3.1.4.8; Samba's
// srvsvc_NetShareEnumAll):
//
//	NET_API_STATUS NetrShareEnum(
//	  [in,string,unique] SRVSVC_HANDLE ServerName,
//	  [in,out] LPSHARE_ENUM_STRUCT InfoStruct,   // Level + union of container pointers
//	  [in] DWORD PreferedMaximumLength,
//	  [out] DWORD* TotalEntries,
//	  [in,out,unique] DWORD* ResumeHandle);
//
// Every visible share from *ResumeHandle on is returned in one answer;
// the resume handle comes back as 0.
func netrShareEnum(env *callEnv, r *ndrReader) ([]byte, error) {
	r.uniqueString() // ServerName: this server, whatever the client calls it
	level := readUnionLevel(r)
	layout, hasArm := shareLayouts[level]
	if hasArm && r.pointer() {
		count := r.uint32() // EntriesRead
		if r.pointer() {
			r.skipRecords(layout, count)
		}
	}
	r.uint32() // PreferedMaximumLength: everything fits
	hasResume := r.pointer()
	var resume uint32
	if hasResume {
		resume = r.uint32()
	}
	if r.err != nil {
		return nil, r.err
	}

	w := newNDRWriter(nil)
	w.uint32(level) // SHARE_ENUM_STRUCT.Level
	w.uint32(level) // union discriminant
	var total uint32
	status := werrOK
	switch {
	case !hasArm:
		status = werrInvalidLevel
	case !shareLevelServed(level, true):
		w.pointer(false)
		status = werrInvalidLevel
	default:
		shares := env.backend.Shares(env.user)
		total = uint32(len(shares))
		if uint64(resume) < uint64(len(shares)) {
			shares = shares[resume:]
		} else {
			shares = nil
		}
		recs := make([][]value, len(shares))
		for i, s := range shares {
			recs[i] = shareRecord(level, s)
		}
		w.pointer(true)             // SHARE_INFO_n_CONTAINER*
		w.uint32(uint32(len(recs))) // EntriesRead
		w.pointer(len(recs) > 0)    // Buffer
		if len(recs) > 0 {
			w.records(layout, recs)
		}
	}
	w.uint32(total) // *TotalEntries
	w.pointer(hasResume)
	if hasResume {
		w.uint32(0)
	}
	w.uint32(status)
	return w.b, nil
}
