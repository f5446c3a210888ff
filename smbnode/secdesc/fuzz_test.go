package secdesc

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// encodes to bytes that parse back to the same encoding.
func FuzzParse(f *testing.F) {
	for _, s := range []string{vecUser, vecSACL, "0100048000000000000000000000000000000000"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		enc := d.Bytes()
		if len(enc) != d.Len() {
			t.Fatalf("Len %d, encoded %d", d.Len(), len(enc))
		}
		d2, err := Parse(enc)
		if err != nil {
			t.Fatalf("re-parse: %v\n%x", err, enc)
		}
		if enc2 := d2.Bytes(); !bytes.Equal(enc, enc2) {
			t.Fatalf("unstable encoding\n%x\n%x", enc, enc2)
		}
		// The other entry points must not panic on anything Parse accepts.
		tok := &Token{User: d.Owner, Groups: []SID{Everyone}}
		MaxAllowed(d, tok)
		for _, out := range []*Descriptor{
			Inherit(d, nil, true, LocalSystem, d.Group),
			Inherit(d, nil, false, LocalSystem, d.Group),
			Inherit(d, d, false, Everyone, Everyone),
			Merge(d, d2, AllSecurityInformation),
			d.Filter(OwnerSecurityInformation | DACLSecurityInformation),
		} {
			if _, err := Parse(out.Bytes()); err != nil {
				t.Fatalf("derived descriptor does not parse: %v", err)
			}
		}
	})
}
