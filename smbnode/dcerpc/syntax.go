package dcerpc

import (
	"encoding/binary"
	"fmt"
)

// uuid is a DCE UUID in its field form (C706 appendix A); on the wire the
// first three fields follow the sender's integer byte order.
type uuid struct {
	timeLow  uint32
	timeMid  uint16
	timeHi   uint16
	clockSeq [8]byte // clock_seq_hi, clock_seq_low, node[6]
}

func (u uuid) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", u.timeLow, u.timeMid, u.timeHi, u.clockSeq[:2], u.clockSeq[2:])
}

// syntaxID is p_syntax_id_t: an interface or transfer syntax and its
// version (major in the low 16 bits, minor in the high 16 bits).
type syntaxID struct {
	uuid    uuid
	version uint32
}

const syntaxIDLen = 20

func (s syntaxID) major() uint16 { return uint16(s.version) }
func (s syntaxID) minor() uint16 { return uint16(s.version >> 16) }

func (s syntaxID) String() string {
	return fmt.Sprintf("%v v%d.%d", s.uuid, s.major(), s.minor())
}

// parseSyntaxID reads a syntax id from the first syntaxIDLen bytes of b.
func parseSyntaxID(b []byte, order binary.ByteOrder) (syntaxID, bool) {
	if len(b) < syntaxIDLen {
		return syntaxID{}, false
	}
	var s syntaxID
	s.uuid.timeLow = order.Uint32(b[0:])
	s.uuid.timeMid = order.Uint16(b[4:])
	s.uuid.timeHi = order.Uint16(b[6:])
	copy(s.uuid.clockSeq[:], b[8:16])
	s.version = order.Uint32(b[16:])
	return s, true
}

func appendSyntaxID(b []byte, s syntaxID) []byte {
	b = binary.LittleEndian.AppendUint32(b, s.uuid.timeLow)
	b = binary.LittleEndian.AppendUint16(b, s.uuid.timeMid)
	b = binary.LittleEndian.AppendUint16(b, s.uuid.timeHi)
	b = append(b, s.uuid.clockSeq[:]...)
	return binary.LittleEndian.AppendUint32(b, s.version)
}

var (
	// syntaxNDR32 is the NDR transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.0.
	syntaxNDR32 = syntaxID{uuid{0x8a885d04, 0x1ceb, 0x11c9, [8]byte{0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60}}, 2}
	// syntaxNDR64 is 71710533-beba-4937-8319-b5dbef9ccc36 v1.0 (MS-RPCE 2.2.5.1), never accepted here.
	syntaxNDR64 = syntaxID{uuid{0x71710533, 0xbeba, 0x4937, [8]byte{0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36}}, 1}
	// syntaxSrvsvc is the srvsvc interface 4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0 (MS-SRVS 1.9).
	syntaxSrvsvc = syntaxID{uuid{0x4b324fc8, 0x1670, 0x01d3, [8]byte{0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88}}, 3}
	// syntaxWkssvc is the wkssvc interface 6bffd098-a112-3610-9833-46c3f87e345a v1.0 (MS-WKST 1.9).
	syntaxWkssvc = syntaxID{uuid{0x6bffd098, 0xa112, 0x3610, [8]byte{0x98, 0x33, 0x46, 0xc3, 0xf8, 0x7e, 0x34, 0x5a}}, 1}
)

// Bind time feature negotiation (MS-RPCE 3.3.1.5.3): a transfer syntax
// 6cb71c2c-9812-4540-XXXX-000000000000 v1.0 whose clock_seq bytes carry the
// client's feature bits as a little-endian uint16.
const (
	btfnTimeLow = 0x6cb71c2c
	btfnTimeMid = 0x9812
	btfnTimeHi  = 0x4540

	featureSecurityContextMultiplexing = 0x0001
	featureKeepConnectionOnOrphan      = 0x0002
)

// btfnFeatures reports whether s is a bind time feature negotiation
// syntax and which features it offers.
func btfnFeatures(s syntaxID) (uint16, bool) {
	u := s.uuid
	if u.timeLow != btfnTimeLow || u.timeMid != btfnTimeMid || u.timeHi != btfnTimeHi || s.version != 1 {
		return 0, false
	}
	for _, c := range u.clockSeq[2:] {
		if c != 0 {
			return 0, false
		}
	}
	return binary.LittleEndian.Uint16(u.clockSeq[:2]), true
}
