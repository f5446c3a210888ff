package smbcrypto

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 4493 section 4 examples.
func TestCMAC(t *testing.T) {
	key := "2b7e151628aed2a6abf7158809cf4f3c"
	msg := "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51" +
		"30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710"
	tests := []struct {
		n    int
		want string
	}{
		{0, "bb1d6929e95937287fa37d129b756746"},
		{16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{40, "dfa66747de9ae63030ca32611497c827"},
		{64, "51f0bebf7e3b9d92fc49741779363cfe"},
	}
	m := unhex(t, msg)
	for _, tt := range tests {
		got := CMAC(unhex(t, key), m[:tt.n])
		if hex.EncodeToString(got[:]) != tt.want {
			t.Errorf("CMAC(%d bytes) = %x, want %s", tt.n, got, tt.want)
		}
	}
}

func TestCCMVectors(t *testing.T) {
	tests := []struct {
		name                string
		key, nonce, aad, pt string
		tagSize             int
		want                string // ciphertext || tag
	}{
		{ // RFC 3610 packet vector #1
			"RFC3610 #1", "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000003020100a0a1a2a3a4a5",
			"0001020304050607", "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e", 8,
			"588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0",
		},
		{ // NIST SP800-38C example 1
			"SP800-38C #1", "404142434445464748494a4b4c4d4e4f", "10111213141516",
			"0001020304050607", "20212223", 4, "7162015b4dac255d",
		},
		{ // NIST SP800-38C example 2
			"SP800-38C #2", "404142434445464748494a4b4c4d4e4f", "1011121314151617",
			"000102030405060708090a0b0c0d0e0f", "202122232425262728292a2b2c2d2e2f", 6,
			"d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd",
		},
		{ // NIST SP800-38C example 3
			"SP800-38C #3", "404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b",
			"000102030405060708090a0b0c0d0e0f10111213", "202122232425262728292a2b2c2d2e2f3031323334353637", 8,
			"e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951",
		},
		// SMB parameters (16-byte tag, 11-byte nonce), answers computed with
		// OpenSSL through python3-cryptography's AESCCM.
		{
			"SMB AES-128", "000102030405060708090a0b0c0d0e0f", "000102030405060708090a",
			hex.EncodeToString(seq(32)), hex.EncodeToString([]byte("SMB3 message for CCM known answer test, 50 bytes.")), 16,
			"6cd16798f625540fb2f96fedbbeea51962b6170dd18d8a06e2320307109c4e0848e6b6c9ef9e07c8d9442792330f34a6932a8f8c2cadf76edbeee4f1d4ab5ad9b2",
		},
		{
			"SMB AES-256", hex.EncodeToString(seq(32)), "000102030405060708090a",
			hex.EncodeToString(seq(32)), hex.EncodeToString([]byte("SMB3 message for CCM known answer test, 50 bytes.")), 16,
			"208d53557a2dd6e7cc9571d038a1b3a97ca7c3578730c44a5d981913bb978b0c56473d1af712ece1c5bcc762359d0c04fa65b10227f5a74766f9ce398c942f6315",
		},
		{
			"SMB empty plaintext", "000102030405060708090a0b0c0d0e0f", "000102030405060708090a",
			hex.EncodeToString(seq(32)), "", 16, "f93ba35ebcb9d60fdadb6d088f9a2092",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := aes.NewCipher(unhex(t, tt.key))
			nonce := unhex(t, tt.nonce)
			c, err := newCCM(b, tt.tagSize, len(nonce))
			if err != nil {
				t.Fatal(err)
			}
			pt, aad := unhex(t, tt.pt), unhex(t, tt.aad)
			got := c.Seal(nil, nonce, pt, aad)
			if hex.EncodeToString(got) != tt.want {
				t.Fatalf("Seal =\n%x\nwant\n%s", got, tt.want)
			}
			back, err := c.Open(nil, nonce, got, aad)
			if err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("Open = %x, %v", back, err)
			}
			for i := range got {
				bad := bytes.Clone(got)
				bad[i] ^= 0x40
				if _, err := c.Open(nil, nonce, bad, aad); err == nil {
					t.Fatalf("Open accepted a flipped bit at byte %d", i)
				}
			}
		})
	}
}

// TestCCMLongAAD covers the 0xFFFE AAD length encoding and long plaintexts
// (answers from OpenSSL).
func TestCCMLongAAD(t *testing.T) {
	b, _ := aes.NewCipher(seq(16))
	c, _ := newCCM(b, 16, 11)
	aad := make([]byte, 70000)
	for i := range aad {
		aad[i] = byte(i % 251)
	}
	pt := make([]byte, 100)
	for i := range pt {
		pt[i] = byte(i % 13)
	}
	if got := c.Seal(nil, seq(11), pt, aad); hex.EncodeToString(got[100:]) != "322a3e9d6b2b10e2e7a62bff743b232d" {
		t.Fatalf("tag %x", got[100:])
	}
	big := bytes.Repeat(seq(256), 300)
	if got := c.Seal(nil, seq(11), big, seq(32)); hex.EncodeToString(got[len(big):]) != "af97d148e09500779f3e29b9396ac0a3" {
		t.Fatalf("tag %x", got[len(big):])
	}
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestKDF(t *testing.T) {
	// Same answer as go-smb2's independent implementation (L=128).
	if got := KDF([]byte("foo"), []byte("bar"), []byte("baz"), 128); hex.EncodeToString(got) != "ca3928a6664e3cfdc87eef2dff7c78ac" {
		t.Fatalf("KDF = %x", got)
	}
	if got := KDF([]byte("k"), []byte("l"), []byte("c"), 512); len(got) != 64 {
		t.Fatalf("KDF of 512 bits gave %d bytes", len(got))
	}
}

// TestDeriveKeys uses the key derivation examples of Microsoft's "SMB 2 and
// SMB 3 security in Windows 10: the anatomy of signing and cryptographic
// keys". The article lists keys from the client's side: its EncryptionKey
// (client to server) is our Decryption key and vice versa.
func TestDeriveKeys(t *testing.T) {
	tests := []struct {
		name                       string
		dialect                    uint16
		sessionKey, preauth        string
		sign, clientEnc, clientDec string
		app                        string
	}{
		{"3.0", Dialect300, "7CD451825D0450D235424E44BA6E78CC", "",
			"0B7E9C5CAC36C0F6EA9AB275298CEDCE", "FAD27796665B313EBB578F388632B4F7", "B0F0427F7CEB416D1D9DCC0CD4F99447",
			"BB23A4575AA26C721AF525AF15A87B4F"},
		{"3.0 second channel", Dialect302, "4E01A2B313BCF660CC250BEF021AEDE6", "",
			"BA1A17DBBFEC349BCA105563D598952F", "", "", ""},
		{"3.1.1", Dialect311, "270E1BA896585EEB7AF3472D3B4C75A7", smb311FinalPreauth,
			"73FE7A9A77BEF0BDE49C650D8CCB5F76", "629BCBC54422A0F572B97F45989B6073", "E2AF0DCEFAC68DA71A0DFBD0D1350D74",
			"6D7AD7954E9EC61E907B4D473DC178FF"},
		{"3.1.1 second channel", Dialect311, "84B9DBB730116A8FA6E9889555C265F9",
			"EA3BF912B11CBFEC5B1889E8209614218687F82FA5294521AD3063425E49E88A10BD022124CE25123BC9111F52D9566BA88BF46344E6063DC5E3FF0389026F6C",
			"C962BCA1A9DD1697B030644199705431", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := DeriveKeys(tt.dialect, CipherAES128GCM, unhex(t, tt.sessionKey), unhex(t, tt.preauth))
			check := func(what string, got []byte, want string) {
				if want != "" && !strings.EqualFold(hex.EncodeToString(got), want) {
					t.Errorf("%s = %X, want %s", what, got, want)
				}
			}
			check("Signing", k.Signing, tt.sign)
			check("Decryption (client's EncryptionKey)", k.Decryption, tt.clientEnc)
			check("Encryption (client's DecryptionKey)", k.Encryption, tt.clientDec)
			check("Application", k.Application, tt.app)
		})
	}

	sk := seq(16)
	if k := DeriveKeys(Dialect210, 0, sk, nil); !bytes.Equal(k.Signing, sk) || k.Encryption != nil {
		t.Errorf("2.1 keys %+v", k)
	}
	if k := DeriveKeys(Dialect202, 0, seq(8), nil); !bytes.Equal(k.Signing, append(seq(8), make([]byte, 8)...)) {
		t.Errorf("short session key not zero-padded: %x", k.Signing)
	}
	k256 := DeriveKeys(Dialect311, CipherAES256GCM, seq(32), seq(64))
	if len(k256.Encryption) != 32 || len(k256.Decryption) != 32 || len(k256.Signing) != 16 {
		t.Errorf("AES-256 key sizes %d %d %d", len(k256.Encryption), len(k256.Decryption), len(k256.Signing))
	}
	// 256-bit keys use L=256 and the full session key; signing only its first 16 bytes.
	if want := KDF(seq(32), []byte("SMBS2CCipherKey\x00"), seq(64), 256); !bytes.Equal(k256.Encryption, want) {
		t.Error("AES-256 encryption key not KDF(full key, L=256)")
	}
	if want := DeriveKeys(Dialect311, CipherAES128GCM, seq(16), seq(64)).Signing; !bytes.Equal(k256.Signing, want) {
		t.Error("AES-256 session: signing key must come from the first 16 bytes")
	}
}
