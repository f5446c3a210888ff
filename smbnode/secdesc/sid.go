package secdesc

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// SID is a security identifier (MS-DTYP 2.4.2.2) held in its binary form,
// so SIDs compare with == and serve as map keys. The zero SID is "no SID".
type SID struct{ raw string }

const (
	sidRevision = 1
	maxSubAuths = 15
	sidHeader   = 8 // Revision, SubAuthorityCount, IdentifierAuthority[6]
)

// Well-known SIDs (MS-DTYP 2.4.2.4).
var (
	Everyone           = NewSID(1, 0)       // S-1-1-0
	CreatorOwner       = NewSID(3, 0)       // S-1-3-0
	CreatorGroup       = NewSID(3, 1)       // S-1-3-1
	OwnerRights        = NewSID(3, 4)       // S-1-3-4
	Anonymous          = NewSID(5, 7)       // S-1-5-7
	AuthenticatedUsers = NewSID(5, 11)      // S-1-5-11
	LocalSystem        = NewSID(5, 18)      // S-1-5-18
	BuiltinUsers       = NewSID(5, 32, 545) // S-1-5-32-545
)

// Relative identifiers of well-known domain accounts and groups.
const (
	RIDGuest       = 501
	RIDDomainUsers = 513
	firstUserRID   = 1000
	userRIDSpan    = 1<<31 - firstUserRID
)

// NewSID builds a SID from a 48-bit identifier authority and at most 15
// sub-authorities; extra sub-authorities are dropped.
func NewSID(authority uint64, subs ...uint32) SID {
	if len(subs) > maxSubAuths {
		subs = subs[:maxSubAuths]
	}
	b := make([]byte, 0, sidHeader+4*len(subs))
	b = append(b, sidRevision, byte(len(subs)))
	for i := 5; i >= 0; i-- {
		b = append(b, byte(authority>>(8*i)))
	}
	for _, s := range subs {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return SID{string(b)}
}

// ParseSID reads one SID from the start of b and returns it with the
// number of bytes it took.
func ParseSID(b []byte) (SID, int, error) {
	if len(b) < sidHeader {
		return SID{}, 0, fmt.Errorf("%w: SID header needs %d bytes, have %d", ErrTruncated, sidHeader, len(b))
	}
	if b[0] != sidRevision || b[1] > maxSubAuths {
		return SID{}, 0, fmt.Errorf("%w: revision %d, %d sub-authorities", ErrInvalidSID, b[0], b[1])
	}
	n := sidHeader + 4*int(b[1])
	if len(b) < n {
		return SID{}, 0, fmt.Errorf("%w: SID needs %d bytes, have %d", ErrTruncated, n, len(b))
	}
	return SID{string(b[:n])}, n, nil
}

// ParseSIDString reads the "S-1-5-21-1-2-3-1000" form.
func ParseSIDString(s string) (SID, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" || len(parts)-3 > maxSubAuths {
		return SID{}, fmt.Errorf("%w: %q", ErrInvalidSID, s)
	}
	auth, err := strconv.ParseUint(parts[2], 0, 48)
	if err != nil {
		return SID{}, fmt.Errorf("%w: %q: authority: %v", ErrInvalidSID, s, err)
	}
	subs := make([]uint32, 0, len(parts)-3)
	for _, p := range parts[3:] {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return SID{}, fmt.Errorf("%w: %q: %v", ErrInvalidSID, s, err)
		}
		subs = append(subs, uint32(v))
	}
	return NewSID(auth, subs...), nil
}

// IsZero reports whether s is the zero SID.
func (s SID) IsZero() bool { return s.raw == "" }

// Len is the encoded size in bytes.
func (s SID) Len() int { return len(s.raw) }

// Append appends the binary form of s to b.
func (s SID) Append(b []byte) []byte { return append(b, s.raw...) }

// Authority is the 48-bit identifier authority.
func (s SID) Authority() uint64 {
	var a uint64
	for i := 2; i < sidHeader && i < len(s.raw); i++ {
		a = a<<8 | uint64(s.raw[i])
	}
	return a
}

// SubAuthorities returns a copy of the sub-authorities.
func (s SID) SubAuthorities() []uint32 {
	var subs []uint32
	for i := sidHeader; i+4 <= len(s.raw); i += 4 {
		subs = append(subs, binary.LittleEndian.Uint32([]byte(s.raw[i:i+4])))
	}
	return subs
}

// String is the "S-1-..." form; the zero SID is "".
func (s SID) String() string {
	if s.IsZero() {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("S-1-")
	sb.WriteString(strconv.FormatUint(s.Authority(), 10))
	for _, v := range s.SubAuthorities() {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return sb.String()
}

// DomainSID is the machine domain of a Shoal cluster: S-1-5-21-a-b-c with
// a, b, c taken from a SHA-256 of the upper-cased server name. Nodes that
// share a server name (one cluster, one DNS name) agree on it.
func DomainSID(serverName string) SID {
	h := sha256.Sum256([]byte("shoal-domain:" + strings.ToUpper(serverName)))
	return NewSID(5, 21,
		binary.LittleEndian.Uint32(h[0:]),
		binary.LittleEndian.Uint32(h[4:]),
		binary.LittleEndian.Uint32(h[8:]))
}

// UserSID is the SID of a Shoal user in domain: the domain's
// sub-authorities followed by a RID of at least 1000 taken from a SHA-256
// of the lower-cased user name (user names compare without case). Two
// names can in principle share a RID; with 2^31 RIDs that needs tens of
// thousands of users before it becomes likely.
func UserSID(domain SID, user string) SID {
	h := sha256.Sum256([]byte("shoal-user:" + strings.ToLower(user)))
	rid := firstUserRID + binary.LittleEndian.Uint32(h[:])%userRIDSpan
	return DomainMember(domain, rid)
}

// DomainMember is domain's SID with rid appended (e.g. RIDDomainUsers).
func DomainMember(domain SID, rid uint32) SID {
	return NewSID(domain.Authority(), append(domain.SubAuthorities(), rid)...)
}
