package auth

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

// NTLMSSP message types (MS-NLMP 2.2.1).
const (
	ntlmNegotiate    = 1
	ntlmChallenge    = 2
	ntlmAuthenticate = 3
)

var ntlmSignature = []byte("NTLMSSP\x00")

// NegotiateFlags bits (MS-NLMP 2.2.2.5).
const (
	flagUnicode            uint32 = 0x00000001 // NTLMSSP_NEGOTIATE_UNICODE
	flagOEM                uint32 = 0x00000002 // NTLM_NEGOTIATE_OEM
	flagRequestTarget      uint32 = 0x00000004 // NTLMSSP_REQUEST_TARGET
	flagSign               uint32 = 0x00000010 // NTLMSSP_NEGOTIATE_SIGN
	flagSeal               uint32 = 0x00000020 // NTLMSSP_NEGOTIATE_SEAL
	flagLMKey              uint32 = 0x00000080 // NTLMSSP_NEGOTIATE_LM_KEY
	flagNTLM               uint32 = 0x00000200 // NTLMSSP_NEGOTIATE_NTLM
	flagAnonymous          uint32 = 0x00000800 // NTLMSSP_ANONYMOUS
	flagAlwaysSign         uint32 = 0x00008000 // NTLMSSP_NEGOTIATE_ALWAYS_SIGN
	flagTargetTypeServer   uint32 = 0x00020000 // NTLMSSP_TARGET_TYPE_SERVER
	flagExtendedSessionSec uint32 = 0x00080000 // NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
	flagTargetInfo         uint32 = 0x00800000 // NTLMSSP_NEGOTIATE_TARGET_INFO
	flagVersion            uint32 = 0x02000000 // NTLMSSP_NEGOTIATE_VERSION
	flag128                uint32 = 0x20000000 // NTLMSSP_NEGOTIATE_128
	flagKeyExch            uint32 = 0x40000000 // NTLMSSP_NEGOTIATE_KEY_EXCH
	flag56                 uint32 = 0x80000000 // NTLMSSP_NEGOTIATE_56
	echoedFlags                   = flagUnicode | flagRequestTarget | flagSign | flagSeal | flagNTLM | flagAlwaysSign | flagExtendedSessionSec | flagVersion | flag128 | flagKeyExch | flag56
	defaultClientFlags            = flagUnicode | flagRequestTarget | flagSign | flagNTLM | flagAlwaysSign | flagExtendedSessionSec | flagTargetInfo | flagVersion | flag128 | flagKeyExch | flag56
)

// AV pair IDs (MS-NLMP 2.2.2.1).
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avFlags           = 6
	avTimestamp       = 7
)

// avFlagMIC is the MsvAvFlags bit saying the AUTHENTICATE message carries a MIC.
const avFlagMIC = 0x00000002

// ntlmVersion is the VERSION structure we send: 6.1 build 7600, NTLM revision 15.
var ntlmVersion = []byte{6, 1, 0xb0, 0x1d, 0, 0, 0, 0x0f}

var le = binary.LittleEndian

// NTHash returns MD4(UTF-16LE(password)), the NT one-way function of
// MS-NLMP 3.3.1.
func NTHash(password string) [16]byte {
	h := md4.New()
	h.Write(utf16le(password))
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// utf16le encodes s as UTF-16 little endian.
func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		le.PutUint16(b[2*i:], c)
	}
	return b
}

// fromUTF16le decodes UTF-16LE; an odd trailing byte is dropped.
func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = le.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// ntowfv2 is NTOWFv2 of MS-NLMP 3.3.2: HMAC_MD5(NTHash, UTF16LE(UPPER(user) + domain)).
func ntowfv2(ntHash [16]byte, user, domain string) []byte {
	m := hmac.New(md5.New, ntHash[:])
	m.Write(utf16le(strings.ToUpper(user) + domain))
	return m.Sum(nil)
}

func hmacMD5(key []byte, parts ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}
