package wire

import (
	"errors"
	"reflect"
	"testing"
)

// smb1Negotiate builds an SMB_COM_NEGOTIATE request as a Windows client
// sends it first ([MS-CIFS] 2.2.4.52.1).
func smb1Negotiate(dialects ...string) []byte {
	b := []byte{0xFF, 'S', 'M', 'B', 0x72, 0, 0, 0, 0, 0x18, 0x53, 0xC8}
	b = append(b, make([]byte, smb1HeaderSize-len(b))...)
	var data []byte
	for _, d := range dialects {
		data = append(data, 0x02)
		data = append(data, d...)
		data = append(data, 0)
	}
	b = append(b, 0) // WordCount
	b = app16(b, uint16(len(data)))
	return append(b, data...)
}

func TestSMB1Dialects(t *testing.T) {
	want := []string{"PC NETWORK PROGRAM 1.0", "LANMAN1.0", "NT LM 0.12", SMB1DialectSMB202, SMB1DialectSMB2xx}
	b := smb1Negotiate(want...)
	if !IsSMB1Negotiate(b) {
		t.Fatal("not recognised")
	}
	got, err := SMB1Dialects(b)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q %v", got, err)
	}

	tests := []struct {
		name string
		mod  func([]byte) []byte
		want error
	}{
		{"smb2", func(b []byte) []byte { b[0] = 0xFE; return b }, ErrNotSMB1Negotiate},
		{"other command", func(b []byte) []byte { b[4] = 0x73; return b }, ErrNotSMB1Negotiate},
		{"short", func(b []byte) []byte { return b[:33] }, ErrShortBuffer},
		{"word count", func(b []byte) []byte { b[32] = 1; return b }, ErrMalformed},
		{"byte count", func(b []byte) []byte { putLE16(b, 33, 500); return b }, ErrMalformed},
		{"format", func(b []byte) []byte { b[35] = 0x03; return b }, ErrMalformed},
		{"unterminated", func(b []byte) []byte { return b[:len(b)-1] }, ErrMalformed},
	}
	for _, tc := range tests {
		bb := tc.mod(smb1Negotiate("NT LM 0.12", "SMB 2.002"))
		if tc.name == "unterminated" {
			putLE16(bb, 33, le16(bb, 33)-1)
		}
		if _, err := SMB1Dialects(bb); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if IsSMB1Negotiate((&Header{}).Append(nil)) {
		t.Error("SMB2 header taken for SMB1")
	}
}
