package smbcrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// testMessage builds a 64-byte SMB2 header plus body.
func testMessage(command uint16, flags uint32, messageID uint64, body string) []byte {
	m := make([]byte, 64, 64+len(body))
	copy(m, []byte{0xfe, 'S', 'M', 'B', 64, 0})
	binary.LittleEndian.PutUint16(m[hdrOffCommand:], command)
	binary.LittleEndian.PutUint32(m[hdrOffFlags:], flags|0x8) // SMB2_FLAGS_SIGNED
	binary.LittleEndian.PutUint64(m[hdrOffMessageID:], messageID)
	copy(m[hdrOffSignature:], "garbage-in-sig!!")
	return append(m, body...)
}

func TestSignVerify(t *testing.T) {
	key := seq(16)
	tests := []struct {
		name string
		alg  SigningAlgorithm
		// want computes the expected signature independently from the
		// message with a zero signature field.
		want func(msg []byte) []byte
	}{
		{"HMAC-SHA256", HMACSHA256, func(msg []byte) []byte {
			m := hmac.New(sha256.New, key)
			m.Write(msg)
			return m.Sum(nil)[:16]
		}},
		{"AES-CMAC", AESCMAC, func(msg []byte) []byte { s := CMAC(key, msg); return s[:] }},
		{"AES-GMAC", AESGMAC, func(msg []byte) []byte {
			b, _ := aes.NewCipher(key)
			g, _ := cipher.NewGCM(b)
			nonce := make([]byte, 12)
			copy(nonce, msg[24:32])
			nonce[8] = msg[16] & 1 // response bit
			if msg[12] == 0x0c {
				nonce[8] |= 2
			}
			return g.Seal(nil, nonce, nil, msg)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []struct {
				cmd   uint16
				flags uint32
			}{{8, 0}, {8, 1}, {0x0c, 0}} {
				msg := testMessage(m.cmd, m.flags, 0x1122334455667788, "body of the message")
				Sign(tt.alg, key, msg)
				zeroed := bytes.Clone(msg)
				clear(zeroed[48:64])
				if want := tt.want(zeroed); !bytes.Equal(msg[48:64], want) {
					t.Fatalf("cmd %x flags %x: signature %x, want %x", m.cmd, m.flags, msg[48:64], want)
				}
				before := bytes.Clone(msg)
				if !Verify(tt.alg, key, msg) {
					t.Fatal("Verify of a signed message failed")
				}
				if !bytes.Equal(before, msg) {
					t.Fatal("Verify modified the message")
				}
				for _, i := range []int{0, 12, 16, 24, 48, 63, 64, len(msg) - 1} {
					bad := bytes.Clone(msg)
					bad[i] ^= 1
					if Verify(tt.alg, key, bad) {
						t.Fatalf("Verify accepted a flipped bit at %d", i)
					}
				}
				if Verify(tt.alg, seq(17)[1:], msg) {
					t.Fatal("Verify accepted a different key")
				}
			}
		})
	}
	if Verify(AESCMAC, key, make([]byte, 63)) || Verify(SigningAlgorithm(9), key, testMessage(8, 0, 1, "")) {
		t.Fatal("Verify accepted a short message or unknown algorithm")
	}
}

// The GMAC nonce must distinguish requests from responses and CANCEL from
// other commands, so a signature cannot be replayed in the other role.
func TestGMACRoleBits(t *testing.T) {
	key := seq(16)
	req := testMessage(8, 0, 5, "x")
	resp := testMessage(8, 1, 5, "x")
	Sign(AESGMAC, key, req)
	Sign(AESGMAC, key, resp)
	copy(resp[48:64], req[48:64])
	if Verify(AESGMAC, key, resp) {
		t.Fatal("request signature verifies as response")
	}
}

func TestSignPanicsOnShortMessage(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	Sign(AESCMAC, seq(16), make([]byte, 10))
}
