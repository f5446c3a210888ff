package secdesc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Vectors encoded by Samba's NDR (python3-samba, descriptor.from_sddl).
const (
	// O:S-1-5-21-1-2-3-1000 G:S-1-5-21-1-2-3-513
	// D:P(A;OICI;FA;;;S-1-5-21-1-2-3-1000)(D;;WD;;;WD)(A;CIIO;GA;;;CO)
	vecUser = "010004901400000030000000000000004c000000010500000000000515000000010000000200000003000000e803000001050000000000051500000001000000020000000300000001020000040054000300000000032400ff010000010500000000000515000000010000000200000003000000e80300000100140000000400010100000000000100000000000a140000000010010100000000000300000000"
	// O:WD G:BU D:(A;;0x1201bf;;;WD) S:(AU;SA;FA;;;WD), Samba reading FA as 0x1ff
	vecSACL = "010014801400000020000000300000004c0000000101000000000001000000000102000000000005200000002102000004001c000100000002401400ff01000001010000000000010000000004001c000100000000001400bf011200010100000000000100000000"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// describe renders a descriptor for comparisons:
// "O:<sid> G:<sid> D:<ace>,<ace> S:<ace>", with "D:NULL" for a NULL DACL
// and an ACE as "type/flags/mask/sid".
func describe(d *Descriptor) string {
	var parts []string
	if !d.Owner.IsZero() {
		parts = append(parts, "O:"+d.Owner.String())
	}
	if !d.Group.IsZero() {
		parts = append(parts, "G:"+d.Group.String())
	}
	acl := func(tag string, present bool, l *ACL) {
		if !present {
			return
		}
		if l == nil {
			parts = append(parts, tag+"NULL")
			return
		}
		var aces []string
		for _, a := range l.ACEs {
			aces = append(aces, fmt.Sprintf("%d/%#x/%#x/%s", a.Type, a.Flags, a.Mask, a.SID))
		}
		parts = append(parts, tag+strings.Join(aces, ","))
	}
	acl("D:", d.Control&DACLPresent != 0, d.DACL)
	acl("S:", d.Control&SACLPresent != 0, d.SACL)
	return strings.Join(parts, " ")
}

func mustSID(t testing.TB, s string) SID {
	t.Helper()
	sid, err := ParseSIDString(s)
	if err != nil {
		t.Fatal(err)
	}
	return sid
}

func TestParseVectors(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		control uint16
		want    string
	}{
		{"user DACL", vecUser, SelfRelative | DACLPresent | DACLProtected,
			"O:S-1-5-21-1-2-3-1000 G:S-1-5-21-1-2-3-513 " +
				"D:0/0x3/0x1ff/S-1-5-21-1-2-3-1000,1/0x0/0x40000/S-1-1-0,0/0xa/0x10000000/S-1-3-0"},
		{"with SACL", vecSACL, SelfRelative | DACLPresent | SACLPresent,
			"O:S-1-1-0 G:S-1-5-32-545 D:0/0x0/0x1201bf/S-1-1-0 S:2/0x40/0x1ff/S-1-1-0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			d, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if d.Control != tc.control {
				t.Errorf("control %#x, want %#x", d.Control, tc.control)
			}
			if got := describe(d); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if got := d.Bytes(); !bytes.Equal(got, b) {
				t.Errorf("re-encoded\n%x\nwant\n%x", got, b)
			}
			if d.Len() != len(b) {
				t.Errorf("Len %d, want %d", d.Len(), len(b))
			}
		})
	}
}

func TestACLRevision3(t *testing.T) {
	// smbcacls -S sends ACL_REVISION3; it must come back as sent.
	d := &Descriptor{Control: DACLPresent, DACL: &ACL{Revision: ACLRevision3, ACEs: []ACE{{Type: AccessAllowed, Mask: FileGenericRead, SID: Everyone}}}}
	back, err := Parse(d.Bytes())
	if err != nil || back.DACL.Revision != ACLRevision3 {
		t.Fatalf("revision 3 ACL: %v, %+v", err, back)
	}
}

func TestNullAndEmptyDACL(t *testing.T) {
	// Header only, DACL_PRESENT, no offsets: a NULL DACL.
	null := unhex(t, "0100048000000000000000000000000000000000")
	d, err := Parse(null)
	if err != nil {
		t.Fatal(err)
	}
	if !d.NullDACL() || describe(d) != "D:NULL" {
		t.Errorf("NULL DACL parsed as %q (null %v)", describe(d), d.NullDACL())
	}
	if !bytes.Equal(d.Bytes(), null) {
		t.Errorf("NULL DACL re-encoded as %x", d.Bytes())
	}
	// An empty DACL is present and not NULL.
	empty := &Descriptor{Control: DACLPresent, DACL: &ACL{Revision: ACLRevision}}
	d, err = Parse(empty.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if d.NullDACL() || d.DACL == nil || len(d.DACL.ACEs) != 0 {
		t.Errorf("empty DACL parsed as %q", describe(d))
	}
	// A DACL offset without DACL_PRESENT is ignored.
	b := empty.Bytes()
	b[2] &^= byte(DACLPresent)
	if d, err = Parse(b); err != nil || d.DACL != nil || d.Control&DACLPresent != 0 {
		t.Errorf("DACL without DACL_PRESENT: %q, %v", describe(d), err)
	}
}

func TestParseErrors(t *testing.T) {
	good := unhex(t, vecUser)
	patch := func(off int, v ...byte) []byte {
		b := append([]byte(nil), good...)
		copy(b[off:], v)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short header", good[:19], ErrTruncated},
		{"revision 2", patch(0, 2), ErrInvalidDescriptor},
		{"owner offset in header", patch(4, 8), ErrInvalidDescriptor},
		{"owner offset past end", patch(4, 0xff, 0xff), ErrTruncated},
		{"owner SID truncated", good[:0x20], ErrTruncated},
		{"owner SID revision", patch(0x14, 2), ErrInvalidSID},
		{"owner SID 16 subauths", patch(0x15, 16), ErrInvalidSID},
		{"dacl offset past end", patch(16, 0xff, 0x0f), ErrTruncated},
		{"acl revision 1", patch(0x4c, 1), ErrInvalidACL},
		{"acl revision 5", patch(0x4c, 5), ErrInvalidACL},
		{"acl size too small", patch(0x4c+2, 4, 0), ErrInvalidACL},
		{"acl size past end", patch(0x4c+2, 0x55, 0), ErrTruncated},
		{"ace count cannot fit", patch(0x4c+4, 0xff, 0), ErrInvalidACL},
		{"ace size not aligned", patch(0x4c+8+2, 0x23, 0), ErrInvalidACL},
		{"ace size below header", patch(0x4c+8+2, 4, 0), ErrInvalidACL},
		{"ace size past acl", patch(0x4c+8+2, 0x60, 0), ErrTruncated},
		{"ace SID bad", patch(0x4c+8+8+1, 15), ErrInvalidACL},
		{"truncated dacl", good[:len(good)-4], ErrTruncated},
	}
	for _, tc := range tests {
		_, err := Parse(tc.b)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestUnknownACEKept(t *testing.T) {
	// An ACCESS_ALLOWED_OBJECT ACE (type 5) with flags and a GUID, and a
	// callback ACE with application data after its SID.
	obj := []byte{5, 0, 0x28, 0, 0x01, 0, 0, 0, 1, 0, 0, 0}
	obj = append(obj, bytes.Repeat([]byte{0xAB}, 16)...)
	obj = Everyone.Append(obj)
	cb := []byte{AccessAllowedCallback, 0, 0x18, 0, 0x01, 0, 0, 0}
	cb = Everyone.Append(cb)
	cb = append(cb, 'a', 'r', 't', 'x')
	acl := []byte{ACLRevisionDS, 0, byte(8 + len(obj) + len(cb)), 0, 2, 0, 0, 0}
	acl = append(append(acl, obj...), cb...)
	sd := []byte{1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0}
	sd = append(sd, acl...)
	d, err := Parse(sd)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Bytes(), sd) {
		t.Errorf("re-encoded\n%x\nwant\n%x", d.Bytes(), sd)
	}
	if !d.DACL.ACEs[0].SID.IsZero() || len(d.DACL.ACEs[0].Extra) != 0x28-8 {
		t.Errorf("object ACE: %+v", d.DACL.ACEs[0])
	}
	if d.DACL.ACEs[1].SID != Everyone || string(d.DACL.ACEs[1].Extra) != "artx" {
		t.Errorf("callback ACE: %+v", d.DACL.ACEs[1])
	}
	// Neither grants anything.
	if got := MaxAllowed(d, &Token{User: Everyone}); got != 0 {
		t.Errorf("object/callback ACEs granted %#x", got)
	}
}

func TestFilter(t *testing.T) {
	d, err := Parse(unhex(t, vecSACL))
	if err != nil {
		t.Fatal(err)
	}
	d.Control |= DACLAutoInherited | OwnerDefaulted
	tests := []struct {
		secInfo uint32
		want    string
		control uint16
	}{
		{OwnerSecurityInformation, "O:S-1-1-0", SelfRelative | OwnerDefaulted},
		{GroupSecurityInformation, "G:S-1-5-32-545", SelfRelative},
		{DACLSecurityInformation, "D:0/0x0/0x1201bf/S-1-1-0", SelfRelative | DACLPresent | DACLAutoInherited},
		{SACLSecurityInformation, "S:2/0x40/0x1ff/S-1-1-0", SelfRelative | SACLPresent},
		{OwnerSecurityInformation | GroupSecurityInformation | DACLSecurityInformation,
			"O:S-1-1-0 G:S-1-5-32-545 D:0/0x0/0x1201bf/S-1-1-0", SelfRelative | OwnerDefaulted | DACLPresent | DACLAutoInherited},
		{0, "", SelfRelative},
	}
	for _, tc := range tests {
		f := d.Filter(tc.secInfo)
		if got := describe(f); got != tc.want || f.Control != tc.control {
			t.Errorf("Filter(%#x) = %q control %#x, want %q %#x", tc.secInfo, got, f.Control, tc.want, tc.control)
		}
		back, err := Parse(f.Bytes())
		if err != nil || describe(back) != tc.want {
			t.Errorf("Filter(%#x) re-parsed as %q, %v", tc.secInfo, describe(back), err)
		}
	}
	if describe(d) != "O:S-1-1-0 G:S-1-5-32-545 D:0/0x0/0x1201bf/S-1-1-0 S:2/0x40/0x1ff/S-1-1-0" {
		t.Errorf("Filter changed its receiver: %s", describe(d))
	}
}

func TestMerge(t *testing.T) {
	alice := mustSID(t, "S-1-5-21-1-2-3-1000")
	bob := mustSID(t, "S-1-5-21-1-2-3-1001")
	users := mustSID(t, "S-1-5-21-1-2-3-513")
	stored := &Descriptor{Control: SelfRelative | DACLPresent | DACLProtected, Owner: alice, Group: users,
		DACL: &ACL{Revision: ACLRevision, ACEs: []ACE{{Type: AccessAllowed, Mask: FileAllAccess, SID: alice}}}}
	newDACL := &ACL{Revision: ACLRevisionDS, ACEs: []ACE{{Type: AccessDenied, Mask: Delete, SID: Everyone}}}
	tests := []struct {
		name    string
		in      *Descriptor
		secInfo uint32
		want    string
		control uint16
	}{
		{"owner only", &Descriptor{Owner: bob, Group: Everyone, Control: DACLPresent, DACL: newDACL}, OwnerSecurityInformation,
			"O:" + bob.String() + " G:" + users.String() + " D:0/0x0/0x1f01ff/" + alice.String(), SelfRelative | DACLPresent | DACLProtected},
		{"owner bit without owner", &Descriptor{Group: bob}, OwnerSecurityInformation | GroupSecurityInformation,
			"O:" + alice.String() + " G:" + bob.String() + " D:0/0x0/0x1f01ff/" + alice.String(), SelfRelative | DACLPresent | DACLProtected},
		{"dacl only", &Descriptor{Owner: bob, Control: DACLPresent | DACLAutoInherited, DACL: newDACL}, DACLSecurityInformation,
			"O:" + alice.String() + " G:" + users.String() + " D:1/0x0/0x10000/S-1-1-0", SelfRelative | DACLPresent | DACLAutoInherited},
		{"NULL dacl", &Descriptor{Control: DACLPresent}, DACLSecurityInformation,
			"O:" + alice.String() + " G:" + users.String() + " D:NULL", SelfRelative | DACLPresent},
		{"dacl bit, no dacl at all", &Descriptor{}, DACLSecurityInformation,
			"O:" + alice.String() + " G:" + users.String() + " D:NULL", SelfRelative | DACLPresent},
		{"sacl", &Descriptor{Control: SACLPresent, SACL: &ACL{Revision: ACLRevision, ACEs: []ACE{{Type: SystemAudit, Flags: FailedAccess, Mask: Delete, SID: Everyone}}}},
			SACLSecurityInformation,
			"O:" + alice.String() + " G:" + users.String() + " D:0/0x0/0x1f01ff/" + alice.String() + " S:2/0x80/0x10000/S-1-1-0",
			SelfRelative | DACLPresent | DACLProtected | SACLPresent},
		{"nothing", &Descriptor{Owner: bob, Control: DACLPresent}, 0,
			"O:" + alice.String() + " G:" + users.String() + " D:0/0x0/0x1f01ff/" + alice.String(), SelfRelative | DACLPresent | DACLProtected},
	}
	for _, tc := range tests {
		got := Merge(stored, tc.in, tc.secInfo)
		if describe(got) != tc.want || got.Control != tc.control {
			t.Errorf("%s: %q control %#x\nwant %q control %#x", tc.name, describe(got), got.Control, tc.want, tc.control)
		}
	}
	if describe(stored) != "O:"+alice.String()+" G:"+users.String()+" D:0/0x0/0x1f01ff/"+alice.String() {
		t.Errorf("Merge changed stored: %s", describe(stored))
	}
}

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		control, wantControl uint16
	}{
		{0, 0},
		{DACLAutoInherited, 0},
		{DACLAutoInheritReq, 0},
		{DACLAutoInherited | DACLAutoInheritReq, DACLAutoInherited},
		{DACLAutoInherited | DACLAutoInheritReq | DACLProtected, DACLAutoInherited | DACLProtected},
	}
	for _, tc := range tests {
		d := &Descriptor{Control: DACLPresent | tc.control, DACL: &ACL{Revision: ACLRevision, ACEs: []ACE{
			{Type: AccessAllowed, Mask: GenericRead | Delete, SID: Everyone},
			{Type: AccessAllowed, Flags: ContainerInherit | InheritOnly, Mask: GenericAll, SID: CreatorOwner},
			{Type: AccessDenied, Flags: ObjectInherit, Mask: GenericWrite, SID: Everyone},
		}}}
		d.Canonicalize(FileMapping)
		if d.Control != DACLPresent|tc.wantControl {
			t.Errorf("control %#x canonicalized to %#x, want %#x", tc.control, d.Control, DACLPresent|tc.wantControl)
		}
		if got := describe(d); got != "D:0/0x0/0x130089/S-1-1-0,0/0xa/0x10000000/S-1-3-0,1/0x1/0x120116/S-1-1-0" {
			t.Errorf("generic rights mapped to %s", got)
		}
	}
}
