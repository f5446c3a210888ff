package auth

import (
	"crypto/rc4"
	"fmt"
	"strings"
)

// testClient is a small NTLMv2 + SPNEGO initiator written from MS-NLMP for
// the tests: it lets the tests drive Session exactly as a real client would
// and also produce the malformed or hostile variants real clients never send.
type testClient struct {
	user, password, domain, workstation string

	flags        uint32 // NEGOTIATE flags
	noMIC        bool   // leave MsvAvFlags/MIC out of AUTHENTICATE
	noKeyExch    bool
	corruptMIC   bool
	ntResponse   []byte // if set, sent instead of the computed NTLMv2 response
	clientChal   [8]byte
	randomKey    [16]byte
	negotiateMsg []byte

	exportedKey []byte
	negFlags    uint32
}

func newTestClient(user, password, domain string) *testClient {
	c := &testClient{user: user, password: password, domain: domain, workstation: "CLIENT1", flags: defaultClientFlags}
	copy(c.clientChal[:], "\xaa\xbb\xcc\xdd\x01\x02\x03\x04")
	copy(c.randomKey[:], "0123456789abcdef")
	return c
}

func (c *testClient) negotiate() []byte {
	m := make([]byte, 40)
	copy(m, ntlmSignature)
	le.PutUint32(m[8:], ntlmNegotiate)
	le.PutUint32(m[12:], c.flags)
	le.PutUint32(m[20:], 40)
	le.PutUint32(m[28:], 40)
	copy(m[32:], ntlmVersion)
	c.negotiateMsg = m
	return m
}

// authenticate answers a CHALLENGE_MESSAGE.
func (c *testClient) authenticate(chal []byte) ([]byte, error) {
	if len(chal) < chalHeaderLength {
		return nil, fmt.Errorf("challenge of %d bytes", len(chal))
	}
	flags := c.flags & le.Uint32(chal[chalOffFlags:])
	info, err := ntlmField(chal, chalOffTargetInfo)
	if err != nil {
		return nil, err
	}
	// Copy the server's AV pairs without the EOL, add MsvAvFlags (MIC).
	var pairs []byte
	var ts []byte
	for b := info; len(b) >= 4; {
		id, n := le.Uint16(b), int(le.Uint16(b[2:]))
		if id == avEOL {
			break
		}
		if id == avTimestamp {
			ts = b[4 : 4+n]
		}
		pairs = append(pairs, b[:4+n]...)
		b = b[4+n:]
	}
	if !c.noMIC {
		pairs = avPair(pairs, avFlags, le.AppendUint32(nil, avFlagMIC))
	}
	pairs = avPair(pairs, avEOL, nil)
	if ts == nil {
		ts = make([]byte, 8)
	}
	blob := []byte{1, 1, 0, 0, 0, 0, 0, 0}
	blob = append(blob, ts...)
	blob = append(blob, c.clientChal[:]...)
	blob = append(blob, 0, 0, 0, 0)
	blob = append(blob, pairs...)
	blob = append(blob, 0, 0, 0, 0)

	key := ntowfv2(NTHash(c.password), c.user, c.domain)
	proof := hmacMD5(key, chal[chalOffChallenge:chalOffChallenge+8], blob)
	nt := append(append([]byte{}, proof...), blob...)
	if c.ntResponse != nil {
		nt = c.ntResponse
		if len(nt) >= 16 {
			proof = nt[:16]
		}
	}
	sbk := hmacMD5(key, proof)
	var encKey []byte
	c.exportedKey = sbk
	if c.noKeyExch {
		flags &^= flagKeyExch
	}
	if flags&flagKeyExch != 0 {
		c.exportedKey = append([]byte{}, c.randomKey[:]...)
		r, _ := rc4.NewCipher(sbk)
		encKey = make([]byte, 16)
		r.XORKeyStream(encKey, c.exportedKey)
	}
	c.negFlags = flags

	m := make([]byte, authMICEnd)
	copy(m, ntlmSignature)
	le.PutUint32(m[8:], ntlmAuthenticate)
	put := func(off int, v []byte) {
		le.PutUint16(m[off:], uint16(len(v)))
		le.PutUint16(m[off+2:], uint16(len(v)))
		le.PutUint32(m[off+4:], uint32(len(m)))
		m = append(m, v...)
	}
	put(authOffDomain, utf16le(c.domain))
	put(authOffUser, utf16le(c.user))
	put(authOffWorkstation, utf16le(c.workstation))
	put(authOffLM, make([]byte, 24))
	put(authOffNT, nt)
	put(authOffEncryptedKey, encKey)
	le.PutUint32(m[authOffFlags:], flags)
	copy(m[64:], ntlmVersion)
	if !c.noMIC {
		mic := hmacMD5(c.exportedKey, c.negotiateMsg, chal, m)
		if c.corruptMIC {
			mic[0] ^= 1
		}
		copy(m[authOffMIC:], mic)
	}
	return m, nil
}

// security returns the client's view of the NTLM security context.
func (c *testClient) security() *ntlmSecurity { return newNTLMSecurity(c.negFlags, c.exportedKey) }

// spnegoInit wraps a mechToken in a GSS InitialContextToken/negTokenInit
// offering mechs (OID contents).
func spnegoInit(mechs [][]byte, mechToken []byte) []byte {
	var list []byte
	for _, m := range mechs {
		list = derAppend(list, tagOID, m)
	}
	seq := derAppend(nil, tagCtx0, der(tagSequence, list))
	if mechToken != nil {
		seq = derAppend(seq, tagCtx2, der(tagOctetString, mechToken))
	}
	return der(tagApp0, der(tagOID, oidSPNEGO), der(tagCtx0, der(tagSequence, seq)))
}

// mapUsers is a Users backed by a map with case-insensitive names.
type mapUsers map[string]string

func (m mapUsers) NTHash(user string) ([16]byte, bool) {
	for u, p := range m {
		if strings.EqualFold(u, user) {
			return NTHash(p), true
		}
	}
	return [16]byte{}, false
}
