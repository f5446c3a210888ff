package smbcrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sync"
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

func TestNewSigner(t *testing.T) {
	if _, err := NewSigner(AESCMAC, seq(15)); !errors.Is(err, ErrKeySize) {
		t.Errorf("15-byte CMAC key: %v", err)
	}
	if _, err := NewSigner(AESGMAC, seq(32)); !errors.Is(err, ErrKeySize) {
		t.Errorf("32-byte GMAC key: %v", err)
	}
	if _, err := NewSigner(SigningAlgorithm(3), seq(16)); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("algorithm 3: %v", err)
	}
	// One Signer used from several goroutines (run with -race).
	for _, alg := range []SigningAlgorithm{HMACSHA256, AESCMAC, AESGMAC} {
		s, err := NewSigner(alg, seq(16))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					m := testMessage(8, uint32(i&1), uint64(i), "concurrent")
					s.Sign(m)
					if !s.Verify(m) || !Verify(alg, seq(16), m) {
						t.Error("Signer signature does not verify")
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}
