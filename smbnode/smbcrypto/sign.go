package smbcrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
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

// Signer signs and verifies with one key and algorithm, keeping the AES
// key schedule between messages. It is safe for concurrent use.
type Signer struct {
	alg   SigningAlgorithm
	key   []byte
	block cipher.Block
	gcm   cipher.AEAD
}

// NewSigner prepares alg with key (16 bytes for AES-CMAC and AES-GMAC; any
// length for HMAC-SHA256). Errors wrap ErrKeySize or ErrUnknownAlgorithm.
func NewSigner(alg SigningAlgorithm, key []byte) (*Signer, error) {
	s := &Signer{alg: alg, key: bytes.Clone(key)}
	switch alg {
	case HMACSHA256:
	case AESCMAC, AESGMAC:
		if len(key) != 16 {
			return nil, fmt.Errorf("%w: %d-byte signing key, want 16", ErrKeySize, len(key))
		}
		s.block, _ = aes.NewCipher(key) // cannot fail for 16 bytes
		if alg == AESGMAC {
			s.gcm, _ = cipher.NewGCM(s.block) // cannot fail for AES
		}
	default:
		return nil, fmt.Errorf("%w: signing algorithm %d", ErrUnknownAlgorithm, alg)
	}
	return s, nil
}

// signature computes the signature of msg (at least 64 bytes), whose
// signature field must already be zero.
func (s *Signer) signature(msg []byte) [16]byte {
	var sig [16]byte
	switch s.alg {
	case HMACSHA256:
		m := hmac.New(sha256.New, s.key)
		m.Write(msg)
		copy(sig[:], m.Sum(nil))
	case AESCMAC:
		sig = cmac(s.block, msg)
	case AESGMAC:
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
		s.gcm.Seal(sig[:0], nonce[:], nil, msg)
	}
	return sig
}

// Sign signs one SMB2 message in place: msg starts at its 64-byte header
// and runs to the end of this message (for a compound member, up to the
// next one, padding included). The signature field (bytes 48..64) is
// zeroed, the signature computed and written there. The caller sets
// SMB2_FLAGS_SIGNED beforehand. Sign panics if msg is shorter than 64
// bytes, a programming error.
func (s *Signer) Sign(msg []byte) {
	if len(msg) < headerSize {
		panic("smbcrypto: Sign of a message shorter than the SMB2 header")
	}
	clear(msg[hdrOffSignature:headerSize])
	sig := s.signature(msg)
	copy(msg[hdrOffSignature:], sig[:])
}

// Verify reports whether msg carries a valid signature, comparing in
// constant time. msg's signature field is zeroed during the call and
// restored before Verify returns, so msg must not be read concurrently.
// Messages shorter than 64 bytes verify as false.
func (s *Signer) Verify(msg []byte) bool {
	if len(msg) < headerSize {
		return false
	}
	var got [16]byte
	copy(got[:], msg[hdrOffSignature:headerSize])
	clear(msg[hdrOffSignature:headerSize])
	want := s.signature(msg)
	copy(msg[hdrOffSignature:], got[:])
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// Sign is NewSigner(alg, key).Sign(msg). It panics if msg is shorter than
// 64 bytes, the algorithm is unknown or the key unusable: all programming
// errors (keys come from DeriveKeys).
func Sign(alg SigningAlgorithm, key, msg []byte) {
	s, err := NewSigner(alg, key)
	if err != nil {
		panic(err.Error())
	}
	s.Sign(msg)
}

// Verify is NewSigner(alg, key).Verify(msg); an unknown algorithm or
// unusable key verifies as false.
func Verify(alg SigningAlgorithm, key, msg []byte) bool {
	s, err := NewSigner(alg, key)
	if err != nil {
		return false
	}
	return s.Verify(msg)
}
