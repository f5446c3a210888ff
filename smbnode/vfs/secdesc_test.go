package vfs

import (
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
)

// parsedSD is a security descriptor read back by the test's own parser.
type parsedSD struct {
	control      uint16
	owner, group string
	hasDACL      bool
	aces         []string // "SID:mask"
}

func parseSID(b []byte) (string, int, error) {
	if len(b) < 8 {
		return "", 0, fmt.Errorf("short SID")
	}
	n := int(b[1])
	if len(b) < 8+4*n {
		return "", 0, fmt.Errorf("SID with %d sub-authorities in %d bytes", n, len(b))
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	s := fmt.Sprintf("S-%d-%d", b[0], auth)
	for i := 0; i < n; i++ {
		s += fmt.Sprintf("-%d", binary.LittleEndian.Uint32(b[8+4*i:]))
	}
	return s, 8 + 4*n, nil
}

func parseSD(t *testing.T, b []byte) parsedSD {
	t.Helper()
	if len(b) < 20 || b[0] != 1 {
		t.Fatalf("bad header % x", b)
	}
	sd := parsedSD{control: binary.LittleEndian.Uint16(b[2:])}
	sidAt := func(off uint32) string {
		if off == 0 {
			return ""
		}
		s, _, err := parseSID(b[off:])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sd.owner = sidAt(binary.LittleEndian.Uint32(b[4:]))
	sd.group = sidAt(binary.LittleEndian.Uint32(b[8:]))
	if binary.LittleEndian.Uint32(b[12:]) != 0 {
		t.Error("SACL offset set")
	}
	if off := binary.LittleEndian.Uint32(b[16:]); off != 0 {
		sd.hasDACL = true
		acl := b[off:]
		size := binary.LittleEndian.Uint16(acl[2:])
		count := int(binary.LittleEndian.Uint16(acl[4:]))
		if acl[0] != 2 || int(size) > len(acl) {
			t.Fatalf("bad ACL header % x", acl[:8])
		}
		pos := 8
		for i := 0; i < count; i++ {
			a := acl[pos:]
			asize := int(binary.LittleEndian.Uint16(a[2:]))
			if a[0] != 0 || pos+asize > int(size) {
				t.Fatalf("bad ACE % x", a)
			}
			sid, n, err := parseSID(a[8:asize])
			if err != nil || 8+n != asize {
				t.Fatalf("ACE SID: %v (%d vs %d)", err, 8+n, asize)
			}
			sd.aces = append(sd.aces, fmt.Sprintf("%s:%#x", sid, binary.LittleEndian.Uint32(a[4:])))
			pos += asize
		}
		if pos != int(size) {
			t.Errorf("ACL size %d, ACEs end at %d", size, pos)
		}
	}
	return sd
}

func TestSecurityDescriptor(t *testing.T) {
	file := Info{UID: 1000, GID: 100, Mode: 0o640}
	dir := Info{UID: 0, GID: 0, Mode: os.ModeDir | 0o755, IsDir: true}
	tests := []struct {
		name    string
		info    Info
		secInfo uint32
		owner   string
		group   string
		aces    string // joined with " ", "-" for no DACL
	}{
		{"owner only", file, OwnerSecurityInformation, "S-1-22-1-1000", "", "-"},
		{"group only", file, GroupSecurityInformation, "", "S-1-22-2-100", "-"},
		{"file dacl", file, DACLSecurityInformation, "", "",
			"S-1-22-1-1000:0x13019f S-1-22-2-100:0x120089"},
		{"dir all", dir, OwnerSecurityInformation | GroupSecurityInformation | DACLSecurityInformation | SACLSecurityInformation,
			"S-1-22-1-0", "S-1-22-2-0", "S-1-22-1-0:0x1f01ff S-1-22-2-0:0x1200a9 S-1-1-0:0x1200a9"},
		{"write-only dir", Info{Mode: os.ModeDir | 0o200, IsDir: true}, DACLSecurityInformation, "", "",
			"S-1-22-1-0:0x130156"},
		{"sacl only", file, SACLSecurityInformation, "", "", "-"},
		{"mode 000", Info{UID: 5, GID: 6}, DACLSecurityInformation, "", "", ""},
	}
	for _, tc := range tests {
		sd := parseSD(t, SecurityDescriptor(tc.info, tc.secInfo))
		if sd.owner != tc.owner || sd.group != tc.group {
			t.Errorf("%s: owner %q group %q, want %q %q", tc.name, sd.owner, sd.group, tc.owner, tc.group)
		}
		if sd.control&0x8000 == 0 {
			t.Errorf("%s: not self-relative", tc.name)
		}
		if tc.aces == "-" {
			if sd.hasDACL || sd.control&0x4 != 0 {
				t.Errorf("%s: DACL present", tc.name)
			}
			continue
		}
		if got := strings.Join(sd.aces, " "); !sd.hasDACL || sd.control&0x4 == 0 || got != tc.aces {
			t.Errorf("%s: DACL %q (present %v), want %q", tc.name, got, sd.hasDACL, tc.aces)
		}
	}
}
