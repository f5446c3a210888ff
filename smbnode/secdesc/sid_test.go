package secdesc

import (
	"errors"
	"testing"
)

func TestSIDString(t *testing.T) {
	tests := []string{"S-1-1-0", "S-1-5-21-1-2-3-1000", "S-1-5-32-545", "S-1-22-1-1000", "S-1-0", "S-1-5-21-4294967295-0-1-2-3-4-5-6-7-8-9-10-11-12"}
	for _, s := range tests {
		sid, err := ParseSIDString(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if sid.String() != s {
			t.Errorf("%s round-tripped as %s", s, sid)
		}
		back, n, err := ParseSID(sid.Append(nil))
		if err != nil || back != sid || n != sid.Len() {
			t.Errorf("%s: binary round trip %v %d %v", s, back, n, err)
		}
	}
	for _, bad := range []string{"", "S-1", "S-2-1-0", "X-1-1-0", "S-1-x-0", "S-1-5-4294967296", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"} {
		if _, err := ParseSIDString(bad); !errors.Is(err, ErrInvalidSID) {
			t.Errorf("%q: %v, want ErrInvalidSID", bad, err)
		}
	}
	if Everyone.String() != "S-1-1-0" || AuthenticatedUsers.String() != "S-1-5-11" || CreatorOwner.String() != "S-1-3-0" {
		t.Error("well-known SIDs wrong")
	}
}

func TestUserSID(t *testing.T) {
	dom := DomainSID("shoal")
	if dom != DomainSID("SHOAL") {
		t.Error("domain depends on the case of the server name")
	}
	if dom == DomainSID("other") {
		t.Error("two server names share a domain")
	}
	subs := dom.SubAuthorities()
	if len(subs) != 4 || subs[0] != 21 || dom.Authority() != 5 {
		t.Errorf("domain %s is not S-1-5-21-a-b-c", dom)
	}
	alice := UserSID(dom, "alice")
	if alice != UserSID(dom, "Alice") {
		t.Error("user SID depends on the case of the name")
	}
	if alice == UserSID(dom, "bob") {
		t.Error("alice and bob share a SID")
	}
	us := alice.SubAuthorities()
	if len(us) != 5 || us[4] < 1000 || us[4] >= 1<<31 {
		t.Errorf("user SID %s: RID out of range", alice)
	}
	for i := range subs {
		if us[i] != subs[i] {
			t.Errorf("user SID %s not in domain %s", alice, dom)
		}
	}
	if got := DomainMember(dom, RIDDomainUsers).String(); got != dom.String()+"-513" {
		t.Errorf("Domain Users = %s", got)
	}
	// The mapping is part of what is stored on disk: it must never change.
	if got := UserSID(DomainSID("SHOAL"), "alice").String(); got != "S-1-5-21-3975406806-1172747524-1922330157-840643867" {
		t.Errorf("UserSID(SHOAL, alice) = %s; changing it orphans stored descriptors", got)
	}
}
