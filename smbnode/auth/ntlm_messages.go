package auth

import (
	"bytes"
	"fmt"
)

// Offsets in the NTLMSSP messages (MS-NLMP 2.2.1).
const (
	offMessageType = 8

	negOffFlags  = 12
	negMinLength = 16

	chalOffTargetName = 12
	chalOffFlags      = 20
	chalOffChallenge  = 24
	chalOffTargetInfo = 40
	chalOffVersion    = 48
	chalHeaderLength  = 56

	authOffLM           = 12
	authOffNT           = 20
	authOffDomain       = 28
	authOffUser         = 36
	authOffWorkstation  = 44
	authOffEncryptedKey = 52
	authOffFlags        = 60
	authOffMIC          = 72
	authMinLength       = 64
	authMICEnd          = 88
)

// ntlmField reads a (Len, MaxLen, Offset) field descriptor at off and
// returns the payload it points to, checked against msg.
func ntlmField(msg []byte, off int) ([]byte, error) {
	if off+8 > len(msg) {
		return nil, fmt.Errorf("%w: field descriptor at %d beyond message of %d bytes", ErrInvalidToken, off, len(msg))
	}
	n := uint64(le.Uint16(msg[off:]))
	o := uint64(le.Uint32(msg[off+4:]))
	if n == 0 {
		return nil, nil
	}
	if o+n > uint64(len(msg)) {
		return nil, fmt.Errorf("%w: field at %d: offset %d + length %d beyond message of %d bytes", ErrInvalidToken, off, o, n, len(msg))
	}
	return msg[o : o+n], nil
}

// ntlmMessageType checks the signature and returns the message type.
func ntlmMessageType(msg []byte) (uint32, error) {
	if len(msg) < 12 || !bytes.Equal(msg[:8], ntlmSignature) {
		return 0, fmt.Errorf("%w: not an NTLMSSP message", ErrInvalidToken)
	}
	return le.Uint32(msg[offMessageType:]), nil
}

// parseNegotiate returns the flags of a NEGOTIATE_MESSAGE. The domain and
// workstation fields are informational and not needed.
func parseNegotiate(msg []byte) (uint32, error) {
	typ, err := ntlmMessageType(msg)
	if err != nil {
		return 0, err
	}
	if typ != ntlmNegotiate {
		return 0, fmt.Errorf("%w: NTLMSSP message type %d, want NEGOTIATE", ErrInvalidToken, typ)
	}
	if len(msg) < negMinLength {
		return 0, fmt.Errorf("%w: NEGOTIATE message of %d bytes", ErrInvalidToken, len(msg))
	}
	return le.Uint32(msg[negOffFlags:]), nil
}

// challengeFlags chooses the CHALLENGE flags from the client's NEGOTIATE
// flags: echo what we support, always announce target info and a server
// target type.
func challengeFlags(client uint32) uint32 {
	f := client&echoedFlags | flagTargetInfo | flagTargetTypeServer | flagNTLM
	if f&flagUnicode == 0 {
		if client&flagOEM != 0 {
			f |= flagOEM
		} else {
			f |= flagUnicode
		}
	}
	return f
}

// avPair appends one AV_PAIR.
func avPair(dst []byte, id uint16, value []byte) []byte {
	dst = le.AppendUint16(dst, id)
	dst = le.AppendUint16(dst, uint16(len(value)))
	return append(dst, value...)
}

// targetInfo builds the CHALLENGE TargetInfo AV pairs, in the order Windows
// sends them.
func targetInfo(cfg Config, filetime uint64) []byte {
	var b []byte
	b = avPair(b, avNbDomainName, utf16le(cfg.NetBIOSDomain))
	b = avPair(b, avNbComputerName, utf16le(cfg.NetBIOSName))
	if cfg.DNSDomain != "" {
		b = avPair(b, avDNSDomainName, utf16le(cfg.DNSDomain))
	}
	if cfg.DNSName != "" {
		b = avPair(b, avDNSComputerName, utf16le(cfg.DNSName))
	}
	b = avPair(b, avTimestamp, le.AppendUint64(nil, filetime))
	return avPair(b, avEOL, nil)
}

// buildChallenge encodes a CHALLENGE_MESSAGE.
func buildChallenge(flags uint32, challenge [8]byte, targetName, info []byte) []byte {
	msg := make([]byte, chalHeaderLength, chalHeaderLength+len(targetName)+len(info))
	copy(msg, ntlmSignature)
	le.PutUint32(msg[offMessageType:], ntlmChallenge)
	off := chalHeaderLength
	if flags&flagRequestTarget != 0 {
		le.PutUint16(msg[chalOffTargetName:], uint16(len(targetName)))
		le.PutUint16(msg[chalOffTargetName+2:], uint16(len(targetName)))
		le.PutUint32(msg[chalOffTargetName+4:], uint32(off))
		msg = append(msg, targetName...)
		off += len(targetName)
	} else {
		le.PutUint32(msg[chalOffTargetName+4:], uint32(off))
	}
	le.PutUint32(msg[chalOffFlags:], flags)
	copy(msg[chalOffChallenge:], challenge[:])
	le.PutUint16(msg[chalOffTargetInfo:], uint16(len(info)))
	le.PutUint16(msg[chalOffTargetInfo+2:], uint16(len(info)))
	le.PutUint32(msg[chalOffTargetInfo+4:], uint32(off))
	msg = append(msg, info...)
	copy(msg[chalOffVersion:], ntlmVersion)
	return msg
}

// authenticateMessage is a parsed AUTHENTICATE_MESSAGE. Byte slices alias
// the message.
type authenticateMessage struct {
	lmResponse   []byte
	ntResponse   []byte
	domain       string
	user         string
	workstation  string
	encryptedKey []byte
	flags        uint32
}

// parseAuthenticate parses an AUTHENTICATE_MESSAGE, checking every field
// against the message bounds. It never panics.
func parseAuthenticate(msg []byte) (*authenticateMessage, error) {
	typ, err := ntlmMessageType(msg)
	if err != nil {
		return nil, err
	}
	if typ != ntlmAuthenticate {
		return nil, fmt.Errorf("%w: NTLMSSP message type %d, want AUTHENTICATE", ErrInvalidToken, typ)
	}
	if len(msg) < authMinLength {
		return nil, fmt.Errorf("%w: AUTHENTICATE message of %d bytes", ErrInvalidToken, len(msg))
	}
	a := &authenticateMessage{flags: le.Uint32(msg[authOffFlags:])}
	if a.lmResponse, err = ntlmField(msg, authOffLM); err != nil {
		return nil, err
	}
	if a.ntResponse, err = ntlmField(msg, authOffNT); err != nil {
		return nil, err
	}
	if a.encryptedKey, err = ntlmField(msg, authOffEncryptedKey); err != nil {
		return nil, err
	}
	str := func(off int) (string, error) {
		b, err := ntlmField(msg, off)
		if err != nil {
			return "", err
		}
		if a.flags&flagUnicode != 0 {
			if len(b)%2 != 0 {
				return "", fmt.Errorf("%w: odd-length UTF-16 string at field %d", ErrInvalidToken, off)
			}
			return fromUTF16le(b), nil
		}
		return string(b), nil
	}
	if a.domain, err = str(authOffDomain); err != nil {
		return nil, err
	}
	if a.user, err = str(authOffUser); err != nil {
		return nil, err
	}
	if a.workstation, err = str(authOffWorkstation); err != nil {
		return nil, err
	}
	return a, nil
}

// parseAVPairs walks an AV_PAIR list (ending in MsvAvEOL) and returns the
// MsvAvFlags value (0 if absent). Malformed lists are an error.
func parseAVPairs(b []byte) (avFlagsValue uint32, err error) {
	for {
		if len(b) < 4 {
			return 0, fmt.Errorf("%w: AV pair list not terminated", ErrInvalidToken)
		}
		id := le.Uint16(b)
		n := int(le.Uint16(b[2:]))
		if len(b) < 4+n {
			return 0, fmt.Errorf("%w: AV pair %d of length %d beyond list", ErrInvalidToken, id, n)
		}
		v := b[4 : 4+n]
		switch id {
		case avEOL:
			return avFlagsValue, nil
		case avFlags:
			if n != 4 {
				return 0, fmt.Errorf("%w: MsvAvFlags of length %d", ErrInvalidToken, n)
			}
			avFlagsValue = le.Uint32(v)
		}
		b = b[4+n:]
	}
}
