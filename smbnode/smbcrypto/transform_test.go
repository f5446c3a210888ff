package smbcrypto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
)

func TestEncryptDecrypt(t *testing.T) {
	for _, c := range []uint16{CipherAES128CCM, CipherAES128GCM, CipherAES256CCM, CipherAES256GCM} {
		key := seq(KeySize(c))
		ns := NewNonceSource()
		for _, size := range []int{0, 1, 64, 1000, 70000} {
			plain := bytes.Repeat([]byte{0xab}, size)
			nonce, err := ns.Next(c)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := Encrypt(c, key, 0x100000000019, nonce, plain)
			if err != nil {
				t.Fatalf("cipher %d: %v", c, err)
			}
			if len(msg) != TransformHeaderSize+size || [4]byte(msg[:4]) != TransformProtocolID {
				t.Fatalf("cipher %d: bad framing", c)
			}
			if binary.LittleEndian.Uint32(msg[36:]) != uint32(size) || binary.LittleEndian.Uint16(msg[42:]) != 1 {
				t.Fatalf("cipher %d: header fields", c)
			}
			if !bytes.Equal(msg[20:20+len(nonce)], nonce) || !bytes.Equal(msg[20+len(nonce):36], make([]byte, 16-len(nonce))) {
				t.Fatalf("cipher %d: nonce field %x", c, msg[20:36])
			}
			got, sid, err := Decrypt(c, key, msg)
			if err != nil || sid != 0x100000000019 || !bytes.Equal(got, plain) {
				t.Fatalf("cipher %d size %d: Decrypt = %d bytes, sid %x, %v", c, size, len(got), sid, err)
			}
			// Any modified byte of the authenticated region must fail.
			for _, i := range []int{4, 19, 20, 35, 44, 51, len(msg) - 1} {
				if i >= len(msg) {
					continue
				}
				bad := bytes.Clone(msg)
				bad[i] ^= 0x10
				if _, _, err := Decrypt(c, key, bad); err == nil {
					t.Fatalf("cipher %d: tampered byte %d accepted", c, i)
				}
			}
		}
	}
}

// TestEncryptKnownAnswer pins the layout: a CCM transform equals the AEAD
// output computed independently with OpenSSL (see TestCCMVectors) once the
// tag is moved to the Signature field.
func TestEncryptKnownAnswer(t *testing.T) {
	plain := []byte("SMB3 message for CCM known answer test, 50 bytes.")
	msg, err := Encrypt(CipherAES128CCM, seq(16), 0x0102030405060708, seq(11), plain)
	if err != nil {
		t.Fatal(err)
	}
	aad := msg[20:52]
	b, err := newAEAD(CipherAES128CCM, seq(16))
	if err != nil {
		t.Fatal(err)
	}
	want := b.Seal(nil, seq(11), plain, aad)
	if !bytes.Equal(msg[52:], want[:len(plain)]) || !bytes.Equal(msg[4:20], want[len(plain):]) {
		t.Fatal("transform does not match AEAD(nonce, plain, header[20:52])")
	}
}

func TestDecryptErrors(t *testing.T) {
	key := seq(16)
	good, _ := Encrypt(CipherAES128GCM, key, 7, seq(12), []byte("hello"))
	tests := []struct {
		name   string
		cipher uint16
		key    []byte
		msg    []byte
		want   error
	}{
		{"short", CipherAES128GCM, key, good[:51], ErrMalformed},
		{"not transform", CipherAES128GCM, key, append([]byte{0xfe}, good[1:]...), ErrMalformed},
		{"size mismatch", CipherAES128GCM, key, append(bytes.Clone(good), 0), ErrMalformed},
		{"unknown cipher", 9, key, good, ErrUnknownCipher},
		{"wrong key size", CipherAES256GCM, key, good, ErrKeySize},
		{"wrong key", CipherAES128GCM, seq(17)[1:], good, ErrAuthentication},
		{"wrong cipher", CipherAES128CCM, key, good, ErrAuthentication},
	}
	for _, tt := range tests {
		if _, _, err := Decrypt(tt.cipher, tt.key, tt.msg); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	flags := bytes.Clone(good)
	flags[42] = 2
	if _, _, err := Decrypt(CipherAES128GCM, key, flags); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad flags: %v", err)
	}
	if _, err := Encrypt(CipherAES128GCM, key, 1, seq(11), nil); !errors.Is(err, ErrNonceSize) {
		t.Errorf("short nonce: %v", err)
	}
	if sid, err := TransformSessionID(good); err != nil || sid != 7 {
		t.Errorf("TransformSessionID = %d, %v", sid, err)
	}
}

func TestNonceSource(t *testing.T) {
	ns := NewNonceSource()
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				n, err := ns.Next(CipherAES128CCM)
				if err != nil || len(n) != 11 {
					t.Error(n, err)
					return
				}
				mu.Lock()
				if seen[string(n)] {
					t.Errorf("nonce %x repeated", n)
				}
				seen[string(n)] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ns.next = ^uint64(0)
	if _, err := ns.Next(CipherAES128GCM); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Next(CipherAES128GCM); !errors.Is(err, ErrNonceExhausted) {
		t.Fatalf("after 2^64 nonces: %v", err)
	}
	if _, err := ns.Next(0); !errors.Is(err, ErrUnknownCipher) {
		t.Fatal(err)
	}
}

func FuzzDecrypt(f *testing.F) {
	for _, c := range []uint16{CipherAES128CCM, CipherAES128GCM} {
		m, _ := Encrypt(c, seq(16), 1, seq(NonceSize(c)), []byte("fuzz seed message"))
		f.Add(c, m)
	}
	f.Fuzz(func(t *testing.T, c uint16, msg []byte) {
		key := seq(16)
		if KeySize(c) == 32 {
			key = seq(32)
		}
		plain, _, err := Decrypt(c, key, msg)
		if err == nil && len(plain) != len(msg)-TransformHeaderSize {
			t.Fatalf("plaintext of %d bytes from %d-byte message", len(plain), len(msg))
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add(uint16(1), testMessage(8, 1, 3, "abc"))
	f.Fuzz(func(t *testing.T, alg uint16, msg []byte) {
		before := bytes.Clone(msg)
		Verify(SigningAlgorithm(alg), seq(16), msg)
		if !bytes.Equal(before, msg) {
			t.Fatal("Verify modified the message")
		}
	})
}

func TestCipherConcurrent(t *testing.T) {
	if _, err := NewCipher(CipherAES256CCM, seq(16)); !errors.Is(err, ErrKeySize) {
		t.Fatalf("short AES-256 key: %v", err)
	}
	for _, id := range []uint16{CipherAES128CCM, CipherAES256GCM} {
		c, err := NewCipher(id, seq(KeySize(id)))
		if err != nil {
			t.Fatal(err)
		}
		ns := NewNonceSource()
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					nonce, _ := ns.Next(id)
					m, err := c.Encrypt(9, nonce, []byte("concurrent message"))
					if err != nil {
						t.Error(err)
						return
					}
					if p, _, err := c.Decrypt(m); err != nil || string(p) != "concurrent message" {
						t.Error("round trip failed", err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}
