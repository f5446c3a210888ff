package wire

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestTransformHeaderCapture checks every encrypted message of a real
// smbclient --client-protection=encrypt session against Samba.
func TestTransformHeaderCapture(t *testing.T) {
	f, err := os.Open("testdata/smbclient-encrypted.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	n := 0
	var session uint64
	for sc.Scan() {
		_, hx, _ := strings.Cut(sc.Text(), " ")
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatal(err)
		}
		if !IsTransform(b) {
			if _, err := ParseHeader(b); err != nil {
				t.Errorf("plain message: %v", err)
			}
			continue
		}
		th, err := ParseTransformHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if int(th.OriginalMessageSize) != len(b)-TransformHeaderSize {
			t.Errorf("OriginalMessageSize %d, ciphertext %d bytes", th.OriginalMessageSize, len(b)-TransformHeaderSize)
		}
		if th.Flags != TransformFlagEncrypted {
			t.Errorf("Flags %#x", th.Flags)
		}
		if session == 0 {
			session = th.SessionID
		} else if th.SessionID != session {
			t.Errorf("SessionID %#x, earlier %#x", th.SessionID, session)
		}
		if got := th.Append(nil); !bytes.Equal(got, b[:TransformHeaderSize]) {
			t.Errorf("re-encoded transform header\n got %x\nwant %x", got, b[:TransformHeaderSize])
		}
	}
	if n == 0 {
		t.Fatal("no transform headers in capture")
	}
}

func TestTransformHeaderErrors(t *testing.T) {
	good := (&TransformHeader{OriginalMessageSize: 64, Flags: 1, SessionID: 7}).Append(nil)
	if _, err := ParseTransformHeader(good[:51]); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short: %v", err)
	}
	bad := append([]byte(nil), good...)
	bad[0] = 0xFE
	if _, err := ParseTransformHeader(bad); !errors.Is(err, ErrProtocolID) {
		t.Errorf("protocol id: %v", err)
	}
	th, err := ParseTransformHeader(good)
	if err != nil || th.SessionID != 7 || th.OriginalMessageSize != 64 {
		t.Errorf("round trip: %+v %v", th, err)
	}
}
