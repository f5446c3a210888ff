package auth

import (
	"bytes"
	"fmt"
)

// DER contents of the object identifiers SPNEGO uses here.
var (
	oidSPNEGO  = []byte{0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}                         // 1.3.6.1.5.5.2
	oidNTLMSSP = []byte{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a} // 1.3.6.1.4.1.311.2.2.10
)

// negHintName is the hintName Windows and Samba put in negTokenInit2.
const negHintName = "not_defined_in_RFC4178@please_ignore"

// NegState values of negTokenResp (RFC 4178 4.2.2).
const (
	negStateAcceptCompleted  = 0
	negStateAcceptIncomplete = 1
	negStateReject           = 2
	negStateRequestMIC       = 3
)

// NegTokenInit returns the SPNEGO negTokenInit2 the server puts in the
// SMB2 NEGOTIATE response security buffer: it offers NTLMSSP only. The
// result depends on nothing in cfg today; cfg is taken so that offering
// further mechanisms later does not change callers.
func NegTokenInit(cfg Config) []byte {
	_ = cfg
	mechTypes := der(tagSequence, der(tagOID, oidNTLMSSP))
	hints := der(tagSequence, der(tagCtx0, der(tagGeneralStr, []byte(negHintName))))
	init2 := der(tagSequence, der(tagCtx0, mechTypes), der(tagCtx3, hints))
	return der(tagApp0, der(tagOID, oidSPNEGO), der(tagCtx0, init2))
}

// negTokenInit is a client's SPNEGO negTokenInit (RFC 4178 4.2.1).
type negTokenInit struct {
	mechTypesDER []byte   // the whole MechTypeList element, as sent: input of mechListMIC
	mechTypes    [][]byte // OID contents, in the client's order of preference
	mechToken    []byte   // optimistic token for mechTypes[0]; nil if absent
	mechListMIC  []byte
}

// parseNegTokenInit parses a GSS InitialContextToken carrying a
// negTokenInit. It never panics and checks every length.
func parseNegTokenInit(b []byte) (*negTokenInit, error) {
	app, _, rest, err := derExpect(b, tagApp0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after InitialContextToken", errDER, len(rest))
	}
	oid, _, app, err := derExpect(app, tagOID)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(oid, oidSPNEGO) {
		return nil, fmt.Errorf("%w: InitialContextToken mechanism is not SPNEGO", errDER)
	}
	choice, _, app, err := derExpect(app, tagCtx0)
	if err != nil {
		return nil, err
	}
	if len(app) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after negTokenInit", errDER)
	}
	seq, _, rest, err := derExpect(choice, tagSequence)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after negTokenInit sequence", errDER)
	}
	t := &negTokenInit{}
	last := -1
	for len(seq) > 0 {
		tag, content, _, r, err := derRead(seq)
		if err != nil {
			return nil, err
		}
		seq = r
		n := int(tag) - tagCtx0
		if tag < tagCtx0 || tag > tagCtx3 || n <= last {
			return nil, fmt.Errorf("%w: unexpected field tag 0x%02x in negTokenInit", errDER, tag)
		}
		last = n
		switch tag {
		case tagCtx0: // mechTypes
			list, whole, r, err := derExpect(content, tagSequence)
			if err != nil {
				return nil, err
			}
			if len(r) != 0 {
				return nil, fmt.Errorf("%w: trailing bytes after mechTypes", errDER)
			}
			t.mechTypesDER = whole
			for len(list) > 0 {
				o, _, r, err := derExpect(list, tagOID)
				if err != nil {
					return nil, err
				}
				if len(o) == 0 {
					return nil, fmt.Errorf("%w: empty OID", errDER)
				}
				t.mechTypes = append(t.mechTypes, o)
				list = r
			}
		case tagCtx1: // reqFlags: ignored, but must be a BIT STRING
			if _, _, _, err := derExpect(content, tagBitString); err != nil {
				return nil, err
			}
		case tagCtx2:
			tok, _, r, err := derExpect(content, tagOctetString)
			if err != nil {
				return nil, err
			}
			if len(r) != 0 {
				return nil, fmt.Errorf("%w: trailing bytes after mechToken", errDER)
			}
			t.mechToken = tok
		case tagCtx3:
			mic, _, r, err := derExpect(content, tagOctetString)
			if err != nil {
				return nil, err
			}
			if len(r) != 0 {
				return nil, fmt.Errorf("%w: trailing bytes after mechListMIC", errDER)
			}
			t.mechListMIC = mic
		}
	}
	if t.mechTypesDER == nil || len(t.mechTypes) == 0 {
		return nil, fmt.Errorf("%w: negTokenInit without mechTypes", errDER)
	}
	return t, nil
}

// negTokenResp is RFC 4178 4.2.2 NegTokenResp.
type negTokenResp struct {
	negState      int // -1 when absent
	supportedMech []byte
	responseToken []byte
	mechListMIC   []byte
}

// parseNegTokenResp parses a [1]-tagged negTokenResp.
func parseNegTokenResp(b []byte) (*negTokenResp, error) {
	choice, _, rest, err := derExpect(b, tagCtx1)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after negTokenResp", errDER)
	}
	seq, _, rest, err := derExpect(choice, tagSequence)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after negTokenResp sequence", errDER)
	}
	t := &negTokenResp{negState: -1}
	last := -1
	for len(seq) > 0 {
		tag, content, _, r, err := derRead(seq)
		if err != nil {
			return nil, err
		}
		seq = r
		n := int(tag) - tagCtx0
		if tag < tagCtx0 || tag > tagCtx3 || n <= last {
			return nil, fmt.Errorf("%w: unexpected field tag 0x%02x in negTokenResp", errDER, tag)
		}
		last = n
		var inner byte
		switch tag {
		case tagCtx0:
			inner = tagEnumerated
		case tagCtx1:
			inner = tagOID
		default:
			inner = tagOctetString
		}
		v, _, r2, err := derExpect(content, inner)
		if err != nil {
			return nil, err
		}
		if len(r2) != 0 {
			return nil, fmt.Errorf("%w: trailing bytes in negTokenResp field", errDER)
		}
		switch tag {
		case tagCtx0:
			if len(v) != 1 || v[0] > negStateRequestMIC {
				return nil, fmt.Errorf("%w: bad negState", errDER)
			}
			t.negState = int(v[0])
		case tagCtx1:
			t.supportedMech = v
		case tagCtx2:
			t.responseToken = v
		case tagCtx3:
			t.mechListMIC = v
		}
	}
	return t, nil
}

// encodeNegTokenResp builds a [1]-tagged negTokenResp; nil fields are
// omitted, negState < 0 is omitted.
func encodeNegTokenResp(negState int, supportedMech, responseToken, mechListMIC []byte) []byte {
	var seq []byte
	if negState >= 0 {
		seq = derAppend(seq, tagCtx0, der(tagEnumerated, []byte{byte(negState)}))
	}
	if supportedMech != nil {
		seq = derAppend(seq, tagCtx1, der(tagOID, supportedMech))
	}
	if responseToken != nil {
		seq = derAppend(seq, tagCtx2, der(tagOctetString, responseToken))
	}
	if mechListMIC != nil {
		seq = derAppend(seq, tagCtx3, der(tagOctetString, mechListMIC))
	}
	return der(tagCtx1, der(tagSequence, seq))
}
