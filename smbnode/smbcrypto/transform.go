package smbcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"math"
)

// Cipher IDs (MS-SMB2 2.2.3.1.2).
const (
	CipherAES128CCM uint16 = 0x0001
	CipherAES128GCM uint16 = 0x0002
	CipherAES256CCM uint16 = 0x0003
	CipherAES256GCM uint16 = 0x0004
)

// TRANSFORM_HEADER layout (MS-SMB2 2.2.41).
const (
	TransformHeaderSize = 52

	thOffSignature    = 4
	thOffNonce        = 20
	thOffOriginalSize = 36
	thOffFlags        = 42
	thOffSessionID    = 44

	transformFlagEncrypted = 0x0001
)

// TransformProtocolID is 0xFD 'S' 'M' 'B', the first four bytes of an
// encrypted message.
var TransformProtocolID = [4]byte{0xfd, 'S', 'M', 'B'}

// NonceSize returns the nonce length of cipher: 11 for CCM, 12 for GCM, 0
// for an unknown cipher.
func NonceSize(cipherID uint16) int {
	switch cipherID {
	case CipherAES128CCM, CipherAES256CCM:
		return 11
	case CipherAES128GCM, CipherAES256GCM:
		return 12
	}
	return 0
}

// KeySize returns the key length of cipher in bytes (0 if unknown).
func KeySize(cipherID uint16) int {
	switch cipherID {
	case CipherAES128CCM, CipherAES128GCM:
		return 16
	case CipherAES256CCM, CipherAES256GCM:
		return 32
	}
	return 0
}

func newAEAD(cipherID uint16, key []byte) (cipher.AEAD, error) {
	ks := KeySize(cipherID)
	if ks == 0 {
		return nil, fmt.Errorf("%w: 0x%04x", ErrUnknownCipher, cipherID)
	}
	if len(key) != ks {
		return nil, fmt.Errorf("%w: %d bytes for cipher 0x%04x, want %d", ErrKeySize, len(key), cipherID, ks)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeySize, err)
	}
	if NonceSize(cipherID) == 11 {
		return newCCM(b, 16, 11)
	}
	return cipher.NewGCM(b)
}

// Cipher encrypts and decrypts SMB3 messages with one key, keeping the
// AES key schedule between messages. It is safe for concurrent use.
type Cipher struct {
	id   uint16
	aead cipher.AEAD
}

// NewCipher prepares cipherID (CipherAES128CCM..CipherAES256GCM) with key
// (16 or 32 bytes, per KeySize). Errors wrap ErrUnknownCipher or ErrKeySize.
func NewCipher(cipherID uint16, key []byte) (*Cipher, error) {
	a, err := newAEAD(cipherID, key)
	if err != nil {
		return nil, err
	}
	return &Cipher{id: cipherID, aead: a}, nil
}

// Encrypt protects one SMB2 message (or a whole compound chain) for
// sessionID and returns the 52-byte TRANSFORM_HEADER followed by the
// ciphertext. nonce must be NonceSize(cipher) bytes and never repeat for
// the key: take it from the key's NonceSource. The AAD is the header from
// the Nonce field on; the tag goes into the Signature field.
func (c *Cipher) Encrypt(sessionID uint64, nonce []byte, plain []byte) ([]byte, error) {
	if len(nonce) != NonceSize(c.id) {
		return nil, fmt.Errorf("%w: %d bytes for cipher 0x%04x", ErrNonceSize, len(nonce), c.id)
	}
	if uint64(len(plain)) > math.MaxUint32 {
		return nil, ErrTooLarge
	}
	out := make([]byte, TransformHeaderSize, TransformHeaderSize+len(plain)+c.aead.Overhead())
	copy(out, TransformProtocolID[:])
	copy(out[thOffNonce:], nonce)
	binary.LittleEndian.PutUint32(out[thOffOriginalSize:], uint32(len(plain)))
	binary.LittleEndian.PutUint16(out[thOffFlags:], transformFlagEncrypted)
	binary.LittleEndian.PutUint64(out[thOffSessionID:], sessionID)
	sealed := c.aead.Seal(out[TransformHeaderSize:TransformHeaderSize], nonce, plain, out[thOffNonce:TransformHeaderSize])
	// Move the tag from the end of the ciphertext into the Signature field.
	n := len(plain)
	copy(out[thOffSignature:thOffNonce], sealed[n:])
	return out[:TransformHeaderSize+n], nil
}

// Decrypt checks and decrypts a message that starts with a
// TRANSFORM_HEADER. It returns the plaintext (a new slice; msg is not
// modified) and the header's SessionId. Errors wrap ErrMalformed or
// ErrAuthentication. The unused tail of the nonce field is not checked
// (Windows fills it); it is covered by the AAD. It never panics.
func (c *Cipher) Decrypt(msg []byte) (plain []byte, sessionID uint64, err error) {
	sessionID, err = TransformSessionID(msg)
	if err != nil {
		return nil, 0, err
	}
	body := msg[TransformHeaderSize:]
	if size := binary.LittleEndian.Uint32(msg[thOffOriginalSize:]); uint64(size) != uint64(len(body)) {
		return nil, 0, fmt.Errorf("%w: OriginalMessageSize %d, %d bytes follow", ErrMalformed, size, len(body))
	}
	if f := binary.LittleEndian.Uint16(msg[thOffFlags:]); f != transformFlagEncrypted {
		return nil, 0, fmt.Errorf("%w: Flags/EncryptionAlgorithm 0x%04x", ErrMalformed, f)
	}
	nonce := msg[thOffNonce : thOffNonce+NonceSize(c.id)]
	ct := make([]byte, len(body)+16)
	copy(ct, body)
	copy(ct[len(body):], msg[thOffSignature:thOffNonce])
	plain, err = c.aead.Open(ct[:0], nonce, ct, msg[thOffNonce:TransformHeaderSize])
	if err != nil {
		return nil, 0, fmt.Errorf("%w: session 0x%x", ErrAuthentication, sessionID)
	}
	return plain, sessionID, nil
}

// TransformSessionID returns the SessionId of an encrypted message so the
// caller can find the session's decryption key. It checks only the length
// and protocol ID.
func TransformSessionID(msg []byte) (uint64, error) {
	if len(msg) < TransformHeaderSize || [4]byte(msg[:4]) != TransformProtocolID {
		return 0, fmt.Errorf("%w: not a TRANSFORM_HEADER", ErrMalformed)
	}
	return binary.LittleEndian.Uint64(msg[thOffSessionID:]), nil
}

// Encrypt is NewCipher(cipherID, key) followed by Cipher.Encrypt.
func Encrypt(cipherID uint16, key []byte, sessionID uint64, nonce []byte, plain []byte) ([]byte, error) {
	c, err := NewCipher(cipherID, key)
	if err != nil {
		return nil, err
	}
	return c.Encrypt(sessionID, nonce, plain)
}

// Decrypt is NewCipher(cipherID, key) followed by Cipher.Decrypt. Errors
// wrap ErrMalformed, ErrUnknownCipher, ErrKeySize or ErrAuthentication.
func Decrypt(cipherID uint16, key []byte, msg []byte) (plain []byte, sessionID uint64, err error) {
	if _, err := TransformSessionID(msg); err != nil {
		return nil, 0, err
	}
	c, err := NewCipher(cipherID, key)
	if err != nil {
		return nil, 0, err
	}
	return c.Decrypt(msg)
}
