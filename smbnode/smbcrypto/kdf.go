package smbcrypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
)

// SMB2 dialect revisions (MS-SMB2 2.2.3).
const (
	Dialect202 uint16 = 0x0202
	Dialect210 uint16 = 0x0210
	Dialect300 uint16 = 0x0300
	Dialect302 uint16 = 0x0302
	Dialect311 uint16 = 0x0311
)

// KDF is the SP800-108 key derivation in counter mode with HMAC-SHA256 as
// PRF and a 32-bit counter (r=32), as MS-SMB2 3.1.4.2 uses it: each block
// is HMAC(key, i || label || 0x00 || context || L), i and L big-endian
// 32-bit, L = bits. label and context are used exactly as given (the SMB
// labels include their terminating NUL; DeriveKeys adds it). bits must be
// a positive multiple of 8.
func KDF(key, label, context []byte, bits int) []byte {
	n := bits / 8
	out := make([]byte, 0, n+sha256.Size)
	m := hmac.New(sha256.New, key)
	var buf [4]byte
	for i := uint32(1); len(out) < n; i++ {
		m.Reset()
		binary.BigEndian.PutUint32(buf[:], i)
		m.Write(buf[:])
		m.Write(label)
		m.Write([]byte{0})
		m.Write(context)
		binary.BigEndian.PutUint32(buf[:], uint32(bits))
		m.Write(buf[:])
		out = m.Sum(out)
	}
	return out[:n]
}

// Keys are the keys of one SMB2 session, from the server's point of view.
type Keys struct {
	Signing     []byte // signs messages in both directions
	Encryption  []byte // server to client (MS-SMB2 Session.EncryptionKey, "ServerOut"/S2C)
	Decryption  []byte // client to server (Session.DecryptionKey, "ServerIn "/C2S)
	Application []byte // for the application (e.g. DCE/RPC over named pipes)
}

func cstr(s string) []byte { return append([]byte(s), 0) }

// DeriveKeys derives a session's keys (MS-SMB2 3.3.5.5.3).
//
// For 2.0.2 and 2.1 only Signing is set: the session key, padded or
// truncated to 16 bytes. For 3.0 and 3.0.2 the constant labels/contexts
// are used; for 3.1.1 the labels with preauthHash (the session's final
// pre-authentication integrity hash, 64 bytes) as context. Signing and
// Application keys are always 128-bit and derived from the first 16 bytes
// of the session key; with AES-256-CCM/GCM (cipher 3 or 4) the encryption
// keys are 256-bit and derived from the full session key. An unknown
// dialect yields zero Keys.
func DeriveKeys(dialect uint16, cipher uint16, sessionKey []byte, preauthHash []byte) Keys {
	key16 := make([]byte, 16)
	copy(key16, sessionKey)
	cipherKey, cipherBits := key16, 128
	if cipher == CipherAES256CCM || cipher == CipherAES256GCM {
		cipherKey, cipherBits = sessionKey, 256
	}
	switch dialect {
	case Dialect202, Dialect210:
		return Keys{Signing: key16}
	case Dialect300, Dialect302:
		return Keys{
			Signing:     KDF(key16, cstr("SMB2AESCMAC"), cstr("SmbSign"), 128),
			Encryption:  KDF(cipherKey, cstr("SMB2AESCCM"), cstr("ServerOut"), cipherBits),
			Decryption:  KDF(cipherKey, cstr("SMB2AESCCM"), cstr("ServerIn "), cipherBits),
			Application: KDF(key16, cstr("SMB2APP"), cstr("SmbRpc"), 128),
		}
	case Dialect311:
		return Keys{
			Signing:     KDF(key16, cstr("SMBSigningKey"), preauthHash, 128),
			Encryption:  KDF(cipherKey, cstr("SMBS2CCipherKey"), preauthHash, cipherBits),
			Decryption:  KDF(cipherKey, cstr("SMBC2SCipherKey"), preauthHash, cipherBits),
			Application: KDF(key16, cstr("SMBAppKey"), preauthHash, 128),
		}
	}
	return Keys{}
}

// PreauthUpdate advances the SMB 3.1.1 pre-authentication integrity hash
// (MS-SMB2 3.3.5.4, 3.3.5.5): SHA-512(h || msg). Start from the zero value.
func PreauthUpdate(h [64]byte, msg []byte) [64]byte {
	s := sha512.New()
	s.Write(h[:])
	s.Write(msg)
	var out [64]byte
	s.Sum(out[:0])
	return out
}
