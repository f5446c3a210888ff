package secdesc

import (
	"errors"
	"testing"
)

func TestGenericMapping(t *testing.T) {
	tests := []struct{ in, want uint32 }{
		{GenericRead, FileGenericRead},
		{GenericWrite, FileGenericWrite},
		{GenericExecute, FileGenericExecute},
		{GenericAll, FileAllAccess},
		{GenericRead | Delete, FileGenericRead | Delete},
		{MaximumAllowed | GenericRead, MaximumAllowed | FileGenericRead},
		{FileReadData, FileReadData},
	}
	for _, tc := range tests {
		if got := FileMapping.Map(tc.in); got != tc.want {
			t.Errorf("Map(%#x) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

func TestAccess(t *testing.T) {
	alice := mustSID(t, "S-1-5-21-1-2-3-1000")
	bob := mustSID(t, "S-1-5-21-1-2-3-1001")
	tokAlice := &Token{User: alice, Groups: []SID{Everyone, AuthenticatedUsers}}
	tokBob := &Token{User: bob, Groups: []SID{Everyone, AuthenticatedUsers}}
	allow := func(flags uint8, mask uint32, s SID) ACE {
		return ACE{Type: AccessAllowed, Flags: flags, Mask: mask, SID: s}
	}
	deny := func(mask uint32, s SID) ACE { return ACE{Type: AccessDenied, Mask: mask, SID: s} }
	sd := func(aces ...ACE) *Descriptor {
		return &Descriptor{Control: SelfRelative | DACLPresent, Owner: alice, DACL: &ACL{Revision: ACLRevision, ACEs: aces}}
	}
	ownerOnly := ReadControl | WriteDAC
	tests := []struct {
		name    string
		d       *Descriptor
		tok     *Token
		desired uint32
		max     uint32 // MaxAllowed
		granted uint32 // Check's result; 0 means ErrAccessDenied
	}{
		{"null DACL", &Descriptor{Control: DACLPresent, Owner: alice}, tokBob, FileWriteData, FileAllAccess, FileWriteData},
		{"no DACL", &Descriptor{Owner: alice}, tokBob, GenericAll, FileAllAccess, FileAllAccess},
		{"empty DACL, owner", sd(), tokAlice, ReadControl, ownerOnly, ReadControl},
		{"empty DACL, owner writes", sd(), tokAlice, FileWriteData, ownerOnly, 0},
		{"empty DACL, other", sd(), tokBob, ReadControl, 0, 0},
		{"empty DACL, other max", sd(), tokBob, MaximumAllowed, 0, 0},
		{"allow everyone read", sd(allow(0, FileGenericRead, Everyone)), tokBob, GenericRead, FileGenericRead, FileGenericRead},
		{"generic in ACE", sd(allow(0, GenericAll, AuthenticatedUsers)), tokBob, Delete | FileWriteData, FileAllAccess, Delete | FileWriteData},
		{"deny first wins", sd(deny(Delete, Everyone), allow(0, FileAllAccess, bob)), tokBob, Delete, FileAllAccess &^ Delete, 0},
		{"allow first wins", sd(allow(0, FileAllAccess, bob), deny(Delete, Everyone)), tokBob, Delete, FileAllAccess, Delete},
		{"deny does not take owner rights", sd(deny(FileAllAccess, Everyone)), tokAlice, ReadControl | WriteDAC, ownerOnly, ownerOnly},
		{"inherit-only ignored", sd(allow(InheritOnly|ObjectInherit, FileAllAccess, Everyone)), tokBob, FileReadData, 0, 0},
		{"creator owner not matched", sd(allow(0, FileGenericRead|ReadControl|WriteDAC|WriteOwner|Delete|Synchronize, CreatorOwner)),
			tokAlice, FileWriteData, ownerOnly, 0},
		{"owner rights replace implicit", sd(allow(0, FileReadData, OwnerRights)), tokAlice, WriteDAC, FileReadData, 0},
		{"owner rights read", sd(allow(0, FileReadData, OwnerRights)), tokAlice, FileReadData, FileReadData, FileReadData},
		{"max allowed", sd(allow(0, FileGenericRead, Everyone), allow(0, FileWriteData, bob)), tokBob, MaximumAllowed,
			FileGenericRead | FileWriteData, FileGenericRead | FileWriteData},
		{"max allowed plus missing", sd(allow(0, FileGenericRead, Everyone)), tokBob, MaximumAllowed | Delete, FileGenericRead, 0},
		{"system security passes", sd(allow(0, FileReadData, bob)), tokBob, FileReadData | AccessSystemSecurity, FileReadData,
			FileReadData | AccessSystemSecurity},
	}
	for _, tc := range tests {
		if got := MaxAllowed(tc.d, tc.tok); got != tc.max {
			t.Errorf("%s: MaxAllowed %#x, want %#x", tc.name, got, tc.max)
		}
		got, err := Check(tc.d, tc.tok, tc.desired)
		switch {
		case tc.granted == 0 && !errors.Is(err, ErrAccessDenied):
			t.Errorf("%s: Check = %#x, %v; want access denied", tc.name, got, err)
		case tc.granted != 0 && (err != nil || got != tc.granted):
			t.Errorf("%s: Check = %#x, %v; want %#x", tc.name, got, err, tc.granted)
		}
	}
}
