package smbcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
)

// CMAC returns the AES-CMAC (RFC 4493) of msg under key. key must be 16,
// 24 or 32 bytes; SMB uses 16. CMAC panics on any other key length, which
// is a programming error (keys come from DeriveKeys).
func CMAC(key, msg []byte) [16]byte {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic("smbcrypto: CMAC key: " + err.Error())
	}
	return cmac(b, msg)
}

// cmacParts computes AES-CMAC over the concatenation of parts without
// copying them into one buffer.
func cmacParts(b cipher.Block, parts ...[]byte) [16]byte {
	var k1, k2 [16]byte
	b.Encrypt(k1[:], k1[:]) // L = AES(K, 0^128)
	dbl(&k1)
	k2 = k1
	dbl(&k2)

	total := 0
	for _, p := range parts {
		total += len(p)
	}
	var x, block [16]byte
	n := 0 // bytes in block
	for _, p := range parts {
		for len(p) > 0 {
			if n == 16 {
				// A full block that is not the last one: absorb it.
				subtle.XORBytes(x[:], x[:], block[:])
				b.Encrypt(x[:], x[:])
				n = 0
			}
			c := copy(block[n:], p)
			n += c
			p = p[c:]
		}
	}
	if total > 0 && n == 16 {
		subtle.XORBytes(block[:], block[:], k1[:])
	} else {
		block[n] = 0x80
		clear(block[n+1:])
		subtle.XORBytes(block[:], block[:], k2[:])
	}
	subtle.XORBytes(x[:], x[:], block[:])
	b.Encrypt(x[:], x[:])
	return x
}

func cmac(b cipher.Block, msg []byte) [16]byte { return cmacParts(b, msg) }

// dbl multiplies by x in GF(2^128) as RFC 4493 subkey generation does.
func dbl(v *[16]byte) {
	msb := v[0] >> 7
	for i := 0; i < 15; i++ {
		v[i] = v[i]<<1 | v[i+1]>>7
	}
	v[15] = v[15]<<1 ^ (0x87 * msb)
}
