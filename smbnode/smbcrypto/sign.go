package smbcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
)

// SigningAlgorithm identifies an SMB2 signing algorithm (MS-SMB2 2.2.3.1.7).
type SigningAlgorithm uint16

const (
	HMACSHA256 SigningAlgorithm = 0 // dialects 2.0.2 and 2.1
	AESCMAC    SigningAlgorithm = 1 // dialects 3.0, 3.0.2, and 3.1.1 by default
	AESGMAC    SigningAlgorithm = 2 // 3.1.1 with SMB2_SIGNING_CAPABILITIES
)

// Offsets in the 64-byte SMB2 header (MS-SMB2 2.2.1).
const (
	hdrOffCommand   = 12
	hdrOffFlags     = 16
	hdrOffMessageID = 24
	hdrOffSignature = 48
	headerSize      = 64

	flagServerToRedir = 0x00000001 // SMB2_FLAGS_SERVER_TO_REDIR
	commandCancel     = 0x000C     // SMB2 CANCEL
)

// signature computes the signature of msg, whose signature field must
// already be zero.
func signature(alg SigningAlgorithm, key, msg []byte) ([16]byte, bool) {
	var sig [16]byte
	switch alg {
	case HMACSHA256:
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		copy(sig[:], m.Sum(nil))
	case AESCMAC:
		b, err := aes.NewCipher(key)
		if err != nil {
			return sig, false
		}
		sig = cmac(b, msg)
	case AESGMAC:
		b, err := aes.NewCipher(key)
		if err != nil {
			return sig, false
		}
		g, err := cipher.NewGCM(b)
		if err != nil {
			return sig, false
		}
		// MS-SMB2 3.1.4.1: nonce = MessageId, then a 4-byte field whose
		// bit 0 says server-to-client and bit 1 says CANCEL request.
		var nonce [12]byte
		copy(nonce[:8], msg[hdrOffMessageID:hdrOffMessageID+8])
		var role uint32
		if binary.LittleEndian.Uint32(msg[hdrOffFlags:])&flagServerToRedir != 0 {
			role |= 1
		}
		if binary.LittleEndian.Uint16(msg[hdrOffCommand:]) == commandCancel {
			role |= 2
		}
		binary.LittleEndian.PutUint32(nonce[8:], role)
		copy(sig[:], g.Seal(nil, nonce[:], nil, msg))
	default:
		return sig, false
	}
	return sig, true
}

// Sign signs one SMB2 message in place: msg starts at its 64-byte header
// and runs to the end of this message (for a compound member, up to the
// next one, padding included). The signature field (bytes 48..64) is zeroed,
// the signature computed and written there. The caller sets
// SMB2_FLAGS_SIGNED beforehand.
//
// Sign panics if msg is shorter than 64 bytes, the algorithm is unknown or
// the key unusable (not 16 bytes for AES-CMAC/GMAC): all programming errors.
func Sign(alg SigningAlgorithm, key, msg []byte) {
	if len(msg) < headerSize {
		panic("smbcrypto: Sign of a message shorter than the SMB2 header")
	}
	clear(msg[hdrOffSignature:headerSize])
	sig, ok := signature(alg, key, msg)
	if !ok {
		panic("smbcrypto: Sign with an unknown algorithm or unusable key")
	}
	copy(msg[hdrOffSignature:], sig[:])
}

// Verify reports whether msg carries a valid signature. The comparison is
// constant-time. msg is modified during the call (its signature field is
// zeroed while computing) and restored before Verify returns, so msg must
// not be read concurrently. Short messages, unknown algorithms and bad keys
// verify as false.
func Verify(alg SigningAlgorithm, key, msg []byte) bool {
	if len(msg) < headerSize {
		return false
	}
	var got [16]byte
	copy(got[:], msg[hdrOffSignature:headerSize])
	clear(msg[hdrOffSignature:headerSize])
	want, ok := signature(alg, key, msg)
	copy(msg[hdrOffSignature:], got[:])
	return ok && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
