package auth

import (
	"crypto/md5"
	"crypto/rc4"
	"crypto/subtle"
	"hash/crc32"
)

// NTLM message integrity for GSS_GetMIC (MS-NLMP 3.4.4), used for the
// SPNEGO mechListMIC.

var (
	magicClientSign = []byte("session key to client-to-server signing key magic constant\x00")
	magicServerSign = []byte("session key to server-to-client signing key magic constant\x00")
	magicClientSeal = []byte("session key to client-to-server sealing key magic constant\x00")
	magicServerSeal = []byte("session key to server-to-client sealing key magic constant\x00")
)

// ntlmSecurity holds the per-direction signing keys and RC4 sealing handles
// of an established NTLM context (MS-NLMP 3.4.5).
type ntlmSecurity struct {
	flags        uint32
	clientSign   []byte
	serverSign   []byte
	clientHandle *rc4.Cipher
	serverHandle *rc4.Cipher
}

// signKey is SIGNKEY of MS-NLMP 3.4.5.2 (nil without extended session security).
func signKey(flags uint32, key []byte, magic []byte) []byte {
	if flags&flagExtendedSessionSec == 0 {
		return nil
	}
	h := md5.New()
	h.Write(key)
	h.Write(magic)
	return h.Sum(nil)
}

// sealKey is SEALKEY of MS-NLMP 3.4.5.3 for NTLMv2 (LM_KEY is never negotiated).
func sealKey(flags uint32, key []byte, magic []byte) []byte {
	if flags&flagExtendedSessionSec == 0 {
		return key
	}
	k := key
	switch {
	case flags&flag128 != 0:
	case flags&flag56 != 0:
		k = key[:7]
	default:
		k = key[:5]
	}
	h := md5.New()
	h.Write(k)
	h.Write(magic)
	return h.Sum(nil)
}

// newNTLMSecurity derives the keys from the exported session key (16 bytes).
func newNTLMSecurity(flags uint32, exportedKey []byte) *ntlmSecurity {
	s := &ntlmSecurity{
		flags:      flags,
		clientSign: signKey(flags, exportedKey, magicClientSign),
		serverSign: signKey(flags, exportedKey, magicServerSign),
	}
	// rc4.NewCipher only fails for keys outside 1..256 bytes; ours are 5..16.
	s.clientHandle, _ = rc4.NewCipher(sealKey(flags, exportedKey, magicClientSeal))
	s.serverHandle, _ = rc4.NewCipher(sealKey(flags, exportedKey, magicServerSeal))
	return s
}

// computeMIC produces an NTLMSSP_MESSAGE_SIGNATURE over msg. It advances the
// RC4 handle, as the protocol requires.
func computeMIC(flags uint32, signKey []byte, handle *rc4.Cipher, seq uint32, msg []byte) []byte {
	sig := make([]byte, 16)
	le.PutUint32(sig[0:], 1)
	if flags&flagExtendedSessionSec != 0 {
		// MS-NLMP 3.4.4.2.
		le.PutUint32(sig[12:], seq)
		sum := hmacMD5(signKey, sig[12:16], msg)
		copy(sig[4:12], sum[:8])
		if flags&flagKeyExch != 0 {
			handle.XORKeyStream(sig[4:12], sig[4:12])
		}
		return sig
	}
	// MS-NLMP 3.4.4.1: RandomPad, CRC32 and a zero SeqNum are RC4-encrypted,
	// the sequence number is XORed in, and RandomPad is sent as zero.
	le.PutUint32(sig[8:], crc32.ChecksumIEEE(msg))
	handle.XORKeyStream(sig[4:16], sig[4:16])
	le.PutUint32(sig[12:], le.Uint32(sig[12:])^seq)
	sig[4], sig[5], sig[6], sig[7] = 0, 0, 0, 0
	return sig
}

// serverMIC signs msg as the server (server-to-client keys).
func (s *ntlmSecurity) serverMIC(seq uint32, msg []byte) []byte {
	return computeMIC(s.flags, s.serverSign, s.serverHandle, seq, msg)
}

// verifyClientMIC checks a client-to-server signature over msg.
func (s *ntlmSecurity) verifyClientMIC(seq uint32, msg, mic []byte) bool {
	if len(mic) != 16 {
		return false
	}
	want := computeMIC(s.flags, s.clientSign, s.clientHandle, seq, msg)
	if s.flags&flagExtendedSessionSec == 0 {
		// RandomPad is not covered; compare checksum and sequence number.
		return subtle.ConstantTimeCompare(want[8:], mic[8:]) == 1 && le.Uint32(mic) == 1
	}
	return subtle.ConstantTimeCompare(want, mic) == 1
}
