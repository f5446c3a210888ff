package secdesc

import "testing"

func TestInherit(t *testing.T) {
	alice := mustSID(t, "S-1-5-21-1-2-3-1000")
	bob := mustSID(t, "S-1-5-21-1-2-3-1001")
	users := mustSID(t, "S-1-5-21-1-2-3-513")
	parent := &Descriptor{Control: SelfRelative | DACLPresent | DACLAutoInherited, Owner: bob, Group: users,
		DACL: &ACL{Revision: ACLRevision, ACEs: []ACE{
			{Type: AccessAllowed, Flags: ObjectInherit | ContainerInherit, Mask: FileAllAccess, SID: bob},
			{Type: AccessAllowed, Flags: 0, Mask: FileGenericRead, SID: Everyone}, // not inheritable
			{Type: AccessAllowed, Flags: ContainerInherit | ObjectInherit | InheritOnly, Mask: GenericAll, SID: CreatorOwner},
			{Type: AccessDenied, Flags: ObjectInherit, Mask: Delete, SID: Everyone},
			{Type: AccessAllowed, Flags: ContainerInherit | NoPropagateInherit, Mask: FileReadData, SID: AuthenticatedUsers},
			{Type: AccessAllowed, Flags: ObjectInherit | NoPropagateInherit, Mask: FileExecute, SID: AuthenticatedUsers},
		}}}
	tests := []struct {
		name    string
		parent  *Descriptor
		creator *Descriptor
		isDir   bool
		want    string
		control uint16
	}{
		{"file", parent, nil, false,
			"O:" + alice.String() + " G:" + users.String() +
				" D:0/0x10/0x1f01ff/" + bob.String() +
				",0/0x10/0x1f01ff/" + alice.String() +
				",1/0x10/0x10000/S-1-1-0" +
				",0/0x10/0x20/S-1-5-11",
			SelfRelative | DACLPresent | DACLAutoInherited},
		{"dir", parent, nil, true,
			"O:" + alice.String() + " G:" + users.String() +
				" D:0/0x13/0x1f01ff/" + bob.String() +
				",0/0x10/0x1f01ff/" + alice.String() + // CREATOR OWNER made effective
				",0/0x1b/0x10000000/S-1-3-0" + // and passed on unchanged
				",1/0x19/0x10000/S-1-1-0" + // OI only: inherit-only on a dir
				",0/0x10/0x1/S-1-5-11", // CI|NP: effective, not passed on
			SelfRelative | DACLPresent | DACLAutoInherited},
		{"nothing inheritable", &Descriptor{Control: DACLPresent, DACL: &ACL{Revision: ACLRevision, ACEs: []ACE{
			{Type: AccessAllowed, Mask: FileAllAccess, SID: Everyone}}}}, nil, false,
			"O:" + alice.String() + " G:" + users.String() + " D:0/0x0/0x1f01ff/" + alice.String() + ",0/0x0/0x1f01ff/S-1-5-18",
			SelfRelative | DACLPresent},
		{"no parent", nil, nil, true,
			"O:" + alice.String() + " G:" + users.String() + " D:0/0x0/0x1f01ff/" + alice.String() + ",0/0x0/0x1f01ff/S-1-5-18",
			SelfRelative | DACLPresent},
		{"creator DACL wins", parent, &Descriptor{Control: DACLPresent | DACLProtected, Owner: bob,
			DACL: &ACL{Revision: ACLRevisionDS, ACEs: []ACE{{Type: AccessAllowed, Mask: FileReadData, SID: Everyone}}}}, false,
			"O:" + bob.String() + " G:" + users.String() + " D:0/0x0/0x1/S-1-1-0",
			SelfRelative | DACLPresent | DACLProtected},
		{"creator NULL DACL", parent, &Descriptor{Control: DACLPresent}, false,
			"O:" + alice.String() + " G:" + users.String() + " D:NULL", SelfRelative | DACLPresent},
		{"creator without DACL inherits", parent, &Descriptor{Group: Everyone}, false,
			"O:" + alice.String() + " G:S-1-1-0" +
				" D:0/0x10/0x1f01ff/" + bob.String() +
				",0/0x10/0x1f01ff/" + alice.String() +
				",1/0x10/0x10000/S-1-1-0" +
				",0/0x10/0x20/S-1-5-11",
			SelfRelative | DACLPresent | DACLAutoInherited},
	}
	for _, tc := range tests {
		got := Inherit(tc.parent, tc.creator, tc.isDir, alice, users)
		if describe(got) != tc.want || got.Control != tc.control {
			t.Errorf("%s:\n got %q control %#x\nwant %q control %#x", tc.name, describe(got), got.Control, tc.want, tc.control)
		}
		if _, err := Parse(got.Bytes()); err != nil {
			t.Errorf("%s: does not parse back: %v", tc.name, err)
		}
	}
	// A grandchild file of the new directory gets the passed-on ACEs.
	dir := Inherit(parent, nil, true, alice, users)
	file := Inherit(dir, nil, false, bob, users)
	want := "O:" + bob.String() + " G:" + users.String() +
		" D:0/0x10/0x1f01ff/" + bob.String() + // CREATOR OWNER's copy (bob again) dropped as a duplicate
		",1/0x10/0x10000/S-1-1-0"
	if describe(file) != want {
		t.Errorf("grandchild:\n got %q\nwant %q", describe(file), want)
	}

	// Without DACL_AUTO_INHERITED on the parent nothing is marked
	// INHERITED, and an INHERITED flag on the parent's ACE is not passed on.
	manual := parent.Clone()
	manual.Control &^= DACLAutoInherited
	manual.DACL.ACEs[0].Flags |= Inherited
	got := Inherit(manual, nil, true, alice, users)
	want = "O:" + alice.String() + " G:" + users.String() +
		" D:0/0x3/0x1f01ff/" + bob.String() +
		",0/0x0/0x1f01ff/" + alice.String() +
		",0/0xb/0x10000000/S-1-3-0" +
		",1/0x9/0x10000/S-1-1-0" +
		",0/0x0/0x1/S-1-5-11"
	if describe(got) != want || got.Control != SelfRelative|DACLPresent || got.DACL.Revision != ACLRevision {
		t.Errorf("manual parent:\n got %q control %#x\nwant %q", describe(got), got.Control, want)
	}
}
