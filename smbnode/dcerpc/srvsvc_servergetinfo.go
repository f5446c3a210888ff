package dcerpc

// serverInfoArms are the levels of the SERVER_INFO union (MS-SRVS 2.2.3.7)
// and of Samba's srvsvc_NetSrvInfo: each has a pointer arm, so an
// unanswered level is sent as a NULL pointer. Any other level has no arm.
var serverInfoArms = map[uint32]bool{
	100: true, 101: true, 102: true, 103: true, 402: true, 403: true, 502: true, 503: true, 599: true,
	1005: true, 1010: true, 1016: true, 1017: true, 1018: true, 1107: true, 1501: true, 1502: true,
	1503: true, 1506: true, 1509: true, 1510: true, 1511: true, 1512: true, 1513: true, 1514: true,
	1515: true, 1516: true, 1518: true, 1520: true, 1521: true, 1522: true, 1523: true, 1524: true,
	1525: true, 1528: true, 1529: true, 1530: true, 1533: true, 1534: true, 1535: true, 1536: true,
	1537: true, 1538: true, 1539: true, 1540: true, 1541: true, 1542: true, 1543: true, 1544: true,
	1545: true, 1546: true, 1547: true, 1548: true, 1549: true, 1550: true, 1552: true, 1553: true,
	1554: true, 1555: true, 1556: true,
}

// SERVER_INFO_102 constants (MS-SRVS 2.2.4.42), the values Windows reports.
const (
	svUsersUnlimited = 0xffffffff
	svDiscMinutes    = 15
	svAnnounceSecs   = 240
	svAnnDeltaMillis = 3000
)

// netrServerGetInfo serves NetrServerGetInfo (opnum 21, MS-SRVS 3.1.4.17):
//
//	NET_API_STATUS NetrServerGetInfo(
//	  [in,string,unique] SRVSVC_HANDLE ServerName,
//	  [in] DWORD Level,
//	  [out,switch_is(Level)] LPSERVER_INFO InfoStruct);
//
// Levels 100 (SERVER_INFO_100), 101 and 102 are answered.
func netrServerGetInfo(env *callEnv, r *ndrReader) ([]byte, error) {
	r.uniqueString()
	level := r.uint32()
	if r.err != nil {
		return nil, r.err
	}
	si := env.backend.Server()
	var layout string
	var rec []value
	switch level {
	case 100: // platform_id, name
		layout = "DS"
		rec = []value{dword(platformIDNT), str(si.Name)}
	case 101: // + version_major, version_minor, type, comment
		layout = "DSDDDS"
		rec = []value{dword(platformIDNT), str(si.Name), dword(si.VersionMajor), dword(si.VersionMinor),
			dword(serverTypeShoal), str(si.Comment)}
	case 102: // + users, disc, hidden, announce, anndelta, licenses, userpath
		layout = "DSDDDSDDDDDDS"
		rec = []value{dword(platformIDNT), str(si.Name), dword(si.VersionMajor), dword(si.VersionMinor),
			dword(serverTypeShoal), str(si.Comment), dword(svUsersUnlimited), dword(svDiscMinutes),
			dword(0), dword(svAnnounceSecs), dword(svAnnDeltaMillis), dword(0), str(`C:\`)}
	}

	w := newNDRWriter(nil)
	w.uint32(level) // union discriminant
	status := werrOK
	switch {
	case rec != nil:
		w.pointer(true)
		w.record(layout, rec)
	case serverInfoArms[level]:
		w.pointer(false)
		status = werrInvalidLevel
	default:
		status = werrInvalidLevel
	}
	w.uint32(status)
	return w.b, nil
}
