package smbcrypto

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// ccm is AES-CCM (RFC 3610, NIST SP800-38C) as a cipher.AEAD. SMB3 uses a
// 16-byte tag and an 11-byte nonce (length field L = 4); the tests also run
// the RFC and NIST example parameters.
type ccm struct {
	b         cipher.Block
	tagSize   int
	nonceSize int
}

var errCCMOpen = errors.New("smbcrypto: CCM message authentication failed")

// newCCM returns AES-CCM with the given tag size (4..16, even) and nonce
// size (7..13) over a 16-byte block cipher.
func newCCM(b cipher.Block, tagSize, nonceSize int) (*ccm, error) {
	if b.BlockSize() != 16 || tagSize < 4 || tagSize > 16 || tagSize%2 != 0 || nonceSize < 7 || nonceSize > 13 {
		return nil, errors.New("smbcrypto: invalid CCM parameters")
	}
	return &ccm{b: b, tagSize: tagSize, nonceSize: nonceSize}, nil
}

func (c *ccm) NonceSize() int { return c.nonceSize }
func (c *ccm) Overhead() int  { return c.tagSize }

// maxLength is the largest plaintext the length field L = 15-nonceSize can
// express.
func (c *ccm) maxLength() uint64 {
	l := 15 - c.nonceSize
	if l >= 8 {
		return 1<<63 - 1
	}
	return 1<<(8*l) - 1
}

// mac computes the CBC-MAC tag T (unencrypted) over nonce, aad and plaintext.
func (c *ccm) mac(nonce, plaintext, aad []byte) [16]byte {
	l := 15 - c.nonceSize
	var x [16]byte
	x[0] = byte((c.tagSize-2)/2)<<3 | byte(l-1)
	if len(aad) > 0 {
		x[0] |= 0x40
	}
	copy(x[1:], nonce)
	var ln [8]byte
	binary.BigEndian.PutUint64(ln[:], uint64(len(plaintext)))
	copy(x[16-l:], ln[8-l:])
	c.b.Encrypt(x[:], x[:])

	var blk [16]byte
	absorb := func(data []byte, first []byte) {
		// first is a prefix placed before data (the AAD length encoding).
		n := copy(blk[:], first)
		for {
			k := copy(blk[n:], data)
			n += k
			data = data[k:]
			if n < 16 && len(data) == 0 {
				if n == 0 {
					return
				}
				clear(blk[n:])
			}
			subtle.XORBytes(x[:], x[:], blk[:])
			c.b.Encrypt(x[:], x[:])
			n = 0
			if len(data) == 0 {
				return
			}
		}
	}
	if len(aad) > 0 {
		var enc []byte
		switch a := uint64(len(aad)); {
		case a < 0xff00:
			enc = binary.BigEndian.AppendUint16(nil, uint16(a))
		case a <= 0xffffffff:
			enc = binary.BigEndian.AppendUint32([]byte{0xff, 0xfe}, uint32(a))
		default:
			enc = binary.BigEndian.AppendUint64([]byte{0xff, 0xff}, a)
		}
		absorb(aad, enc)
	}
	absorb(plaintext, nil)
	return x
}

// ctr XORs src into dst with the counter-mode keystream starting at block
// counter 1, and returns S0 (the keystream block for counter 0).
func (c *ccm) ctr(nonce, dst, src []byte) [16]byte {
	var a [16]byte
	a[0] = byte(14 - c.nonceSize) // L-1
	copy(a[1:], nonce)
	var s0 [16]byte
	c.b.Encrypt(s0[:], a[:])
	a[15] = 1
	cipher.NewCTR(c.b, a[:]).XORKeyStream(dst, src)
	return s0
}

func (c *ccm) Seal(dst, nonce, plaintext, aad []byte) []byte {
	if len(nonce) != c.nonceSize {
		panic("smbcrypto: CCM nonce of the wrong size")
	}
	if uint64(len(plaintext)) > c.maxLength() {
		panic("smbcrypto: CCM plaintext too long")
	}
	t := c.mac(nonce, plaintext, aad)
	ret, out := sliceForAppend(dst, len(plaintext)+c.tagSize)
	s0 := c.ctr(nonce, out[:len(plaintext)], plaintext)
	subtle.XORBytes(out[len(plaintext):], t[:c.tagSize], s0[:c.tagSize])
	return ret
}

func (c *ccm) Open(dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	if len(nonce) != c.nonceSize || len(ciphertext) < c.tagSize ||
		uint64(len(ciphertext)-c.tagSize) > c.maxLength() {
		return nil, errCCMOpen
	}
	n := len(ciphertext) - c.tagSize
	tag := ciphertext[n:]
	ret, out := sliceForAppend(dst, n)
	s0 := c.ctr(nonce, out, ciphertext[:n])
	t := c.mac(nonce, out, aad)
	var want [16]byte
	subtle.XORBytes(want[:c.tagSize], t[:c.tagSize], s0[:c.tagSize])
	if subtle.ConstantTimeCompare(want[:c.tagSize], tag) != 1 {
		clear(out)
		return nil, errCCMOpen
	}
	return ret, nil
}

// sliceForAppend extends in by n bytes, reusing its capacity.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	return head, head[len(in):]
}
