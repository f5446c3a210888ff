package dcerpc

import (
	"encoding/binary"
	"fmt"
)

// PDU types (C706 12.6.4, MS-RPCE 2.2.2).
const (
	ptypeRequest          = 0
	ptypeResponse         = 2
	ptypeFault            = 3
	ptypeBind             = 11
	ptypeBindAck          = 12
	ptypeBindNak          = 13
	ptypeAlterContext     = 14
	ptypeAlterContextResp = 15
	ptypeAuth3            = 16
	ptypeShutdown         = 17
	ptypeCoCancel         = 18
	ptypeOrphaned         = 19
)

// pfc_flags (C706 12.6.3.1, MS-RPCE 2.2.2).
const (
	pfcFirstFrag     = 0x01
	pfcLastFrag      = 0x02
	pfcPendingCancel = 0x04 // PFC_SUPPORT_HEADER_SIGN in bind PDUs
	pfcConcMpx       = 0x10
	pfcDidNotExecute = 0x20
	pfcMaybe         = 0x40
	pfcObjectUUID    = 0x80
)

// Common header layout (C706 12.6.3.1), 16 bytes.
const (
	hdrOffVers       = 0
	hdrOffVersMinor  = 1
	hdrOffPtype      = 2
	hdrOffFlags      = 3
	hdrOffDrep       = 4
	hdrOffFragLength = 8
	hdrOffAuthLength = 10
	hdrOffCallID     = 12
	hdrLen           = 16

	rpcVers          = 5
	rpcVersMinorMax  = 1
	drepLittleEndian = 0x10 // integer representation: little-endian, ASCII characters
)

// Fragment sizes. Every implementation must accept fragments of
// mustRecvFragSize (C706 12.6.3.1); ours is the one Samba negotiates (see
// testdata/captures.txt).
const (
	mustRecvFragSize = 1432
	maxFragSize      = 4280
	// maxRequestStub bounds a reassembled request; srvsvc requests are a
	// few hundred bytes, so anything near this is an attack.
	maxRequestStub = 256 * 1024
)

// header is the common header of every connection-oriented PDU.
type header struct {
	versMinor  uint8
	ptype      uint8
	flags      uint8
	drep       [4]byte
	fragLength uint16
	authLength uint16
	callID     uint32
}

// order returns the byte order the sender used for integers (C706 14.2.5).
func (h *header) order() binary.ByteOrder {
	if h.drep[0]&0xf0 == drepLittleEndian {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

// peekFragLength reports the length of the PDU at the start of b, or an
// error when b holds a complete header that cannot start a PDU. ok is false
// while b is too short to tell.
func peekFragLength(b []byte) (n int, ok bool, err error) {
	if len(b) < hdrLen {
		return 0, false, nil
	}
	if b[hdrOffVers] != rpcVers {
		return 0, false, fmt.Errorf("%w: rpc_vers %d, want %d", ErrMalformed, b[hdrOffVers], rpcVers)
	}
	var order binary.ByteOrder = binary.BigEndian
	if b[hdrOffDrep]&0xf0 == drepLittleEndian {
		order = binary.LittleEndian
	}
	n = int(order.Uint16(b[hdrOffFragLength:]))
	if n < hdrLen {
		return 0, false, fmt.Errorf("%w: frag_length %d shorter than the header", ErrMalformed, n)
	}
	return n, len(b) >= n, nil
}

// parseHeader parses the common header of the complete PDU pdu
// (len(pdu) == frag_length, as peekFragLength arranged).
func parseHeader(pdu []byte) (header, error) {
	var h header
	if len(pdu) < hdrLen {
		return h, fmt.Errorf("%w: %d bytes, header needs %d", ErrMalformed, len(pdu), hdrLen)
	}
	if pdu[hdrOffVers] != rpcVers {
		return h, fmt.Errorf("%w: rpc_vers %d", ErrMalformed, pdu[hdrOffVers])
	}
	h.versMinor = pdu[hdrOffVersMinor]
	h.ptype = pdu[hdrOffPtype]
	h.flags = pdu[hdrOffFlags]
	copy(h.drep[:], pdu[hdrOffDrep:hdrOffDrep+4])
	order := h.order()
	h.fragLength = order.Uint16(pdu[hdrOffFragLength:])
	h.authLength = order.Uint16(pdu[hdrOffAuthLength:])
	h.callID = order.Uint32(pdu[hdrOffCallID:])
	if int(h.fragLength) != len(pdu) {
		return h, fmt.Errorf("%w: frag_length %d, PDU has %d bytes", ErrMalformed, h.fragLength, len(pdu))
	}
	if int(h.authLength) > len(pdu)-hdrLen {
		return h, fmt.Errorf("%w: auth_length %d exceeds PDU", ErrMalformed, h.authLength)
	}
	return h, nil
}

// appendHeader appends a little-endian common header; frag_length is
// patched by finishPDU once the body is known.
func appendHeader(b []byte, ptype, flags uint8, callID uint32) []byte {
	b = append(b, rpcVers, 0, ptype, flags, drepLittleEndian, 0, 0, 0)
	b = binary.LittleEndian.AppendUint16(b, 0) // frag_length, patched
	b = binary.LittleEndian.AppendUint16(b, 0) // auth_length
	return binary.LittleEndian.AppendUint32(b, callID)
}

// finishPDU writes frag_length for the PDU that starts at b[start:].
func finishPDU(b []byte, start int) []byte {
	binary.LittleEndian.PutUint16(b[start+hdrOffFragLength:], uint16(len(b)-start))
	return b
}
