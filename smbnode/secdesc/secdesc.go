package secdesc

import (
	"encoding/binary"
	"fmt"
)

// SecurityInformation bits of QUERY_INFO and SET_INFO (MS-DTYP 2.4.7).
const (
	OwnerSecurityInformation uint32 = 0x00000001 // OWNER_SECURITY_INFORMATION
	GroupSecurityInformation uint32 = 0x00000002 // GROUP_SECURITY_INFORMATION
	DACLSecurityInformation  uint32 = 0x00000004 // DACL_SECURITY_INFORMATION
	SACLSecurityInformation  uint32 = 0x00000008 // SACL_SECURITY_INFORMATION
	LabelSecurityInformation uint32 = 0x00000010 // LABEL_SECURITY_INFORMATION

	// AllSecurityInformation are the four parts a descriptor stores.
	AllSecurityInformation = OwnerSecurityInformation | GroupSecurityInformation |
		DACLSecurityInformation | SACLSecurityInformation
)

// Control flags (MS-DTYP 2.4.6).
const (
	OwnerDefaulted     uint16 = 0x0001 // SE_OWNER_DEFAULTED
	GroupDefaulted     uint16 = 0x0002 // SE_GROUP_DEFAULTED
	DACLPresent        uint16 = 0x0004 // SE_DACL_PRESENT
	DACLDefaulted      uint16 = 0x0008 // SE_DACL_DEFAULTED
	SACLPresent        uint16 = 0x0010 // SE_SACL_PRESENT
	SACLDefaulted      uint16 = 0x0020 // SE_SACL_DEFAULTED
	DACLTrusted        uint16 = 0x0040 // SE_DACL_TRUSTED
	ServerSecurity     uint16 = 0x0080 // SE_SERVER_SECURITY
	DACLAutoInheritReq uint16 = 0x0100 // SE_DACL_AUTO_INHERIT_REQ
	SACLAutoInheritReq uint16 = 0x0200 // SE_SACL_AUTO_INHERIT_REQ
	DACLAutoInherited  uint16 = 0x0400 // SE_DACL_AUTO_INHERITED
	SACLAutoInherited  uint16 = 0x0800 // SE_SACL_AUTO_INHERITED
	DACLProtected      uint16 = 0x1000 // SE_DACL_PROTECTED
	SACLProtected      uint16 = 0x2000 // SE_SACL_PROTECTED
	RMControlValid     uint16 = 0x4000 // SE_RM_CONTROL_VALID
	SelfRelative       uint16 = 0x8000 // SE_SELF_RELATIVE

	// daclControl and saclControl are the control bits that belong to the
	// DACL and the SACL: they travel with their ACL in Merge and Filter.
	daclControl = DACLPresent | DACLDefaulted | DACLTrusted | DACLAutoInheritReq | DACLAutoInherited | DACLProtected
	saclControl = SACLPresent | SACLDefaulted | SACLAutoInheritReq | SACLAutoInherited | SACLProtected
)

// Offsets in the self-relative header (MS-DTYP 2.4.6).
const (
	sdRevision    = 0
	sdSbz1        = 1
	sdControl     = 2
	sdOffsetOwner = 4
	sdOffsetGroup = 8
	sdOffsetSacl  = 12
	sdOffsetDacl  = 16
	sdHeaderSize  = 20
)

// Descriptor is a security descriptor. A zero Owner or Group is absent.
// DACL and SACL are nil when absent; whether an absent DACL means "no DACL
// given" or "NULL DACL, everyone may do everything" is decided by the
// DACLPresent bit of Control, as on the wire (likewise SACLPresent).
type Descriptor struct {
	// Sbz1 is the resource-manager control byte, kept as it came.
	Sbz1    uint8
	Control uint16
	Owner   SID
	Group   SID
	SACL    *ACL
	DACL    *ACL
}

// Parse reads a self-relative security descriptor. It checks every offset
// and length against b and never panics. An ACL whose Present bit is
// clear is ignored, whatever its offset says.
func Parse(b []byte) (*Descriptor, error) {
	if len(b) < sdHeaderSize {
		return nil, fmt.Errorf("%w: descriptor header needs %d bytes, have %d", ErrTruncated, sdHeaderSize, len(b))
	}
	if b[sdRevision] != 1 {
		return nil, fmt.Errorf("%w: revision %d", ErrInvalidDescriptor, b[sdRevision])
	}
	d := &Descriptor{Sbz1: b[sdSbz1], Control: binary.LittleEndian.Uint16(b[sdControl:]) | SelfRelative}
	at := func(field int) (int, error) {
		off := int(binary.LittleEndian.Uint32(b[field:]))
		if off != 0 && off < sdHeaderSize {
			return 0, fmt.Errorf("%w: offset %d inside the header", ErrInvalidDescriptor, off)
		}
		if off > len(b) {
			return 0, fmt.Errorf("%w: offset %d beyond %d bytes", ErrTruncated, off, len(b))
		}
		return off, nil
	}
	var err error
	if d.Owner, err = parseSIDAt(b, at, sdOffsetOwner); err != nil {
		return nil, fmt.Errorf("owner: %w", err)
	}
	if d.Group, err = parseSIDAt(b, at, sdOffsetGroup); err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	if d.Control&SACLPresent != 0 {
		if d.SACL, err = parseACLAt(b, at, sdOffsetSacl); err != nil {
			return nil, fmt.Errorf("SACL: %w", err)
		}
	}
	if d.Control&DACLPresent != 0 {
		if d.DACL, err = parseACLAt(b, at, sdOffsetDacl); err != nil {
			return nil, fmt.Errorf("DACL: %w", err)
		}
	}
	return d, nil
}

func parseSIDAt(b []byte, at func(int) (int, error), field int) (SID, error) {
	off, err := at(field)
	if err != nil || off == 0 {
		return SID{}, err
	}
	s, _, err := ParseSID(b[off:])
	return s, err
}

func parseACLAt(b []byte, at func(int) (int, error), field int) (*ACL, error) {
	off, err := at(field)
	if err != nil || off == 0 {
		return nil, err
	}
	return parseACL(b[off:])
}

// Len is the size Append will add.
func (d *Descriptor) Len() int {
	n := sdHeaderSize + d.Owner.Len() + d.Group.Len()
	if d.SACL != nil && d.Control&SACLPresent != 0 {
		n += d.SACL.size()
	}
	if d.DACL != nil && d.Control&DACLPresent != 0 {
		n += d.DACL.size()
	}
	return n
}

// Append appends d in self-relative form to b: header, owner, group,
// SACL, DACL. An ACL is written only when its Present bit is set.
func (d *Descriptor) Append(b []byte) []byte {
	start := len(b)
	b = append(b, 1, d.Sbz1)
	b = binary.LittleEndian.AppendUint16(b, d.Control|SelfRelative)
	b = append(b, make([]byte, sdHeaderSize-4)...)
	put := func(field int) {
		binary.LittleEndian.PutUint32(b[start+field:], uint32(len(b)-start))
	}
	if !d.Owner.IsZero() {
		put(sdOffsetOwner)
		b = d.Owner.Append(b)
	}
	if !d.Group.IsZero() {
		put(sdOffsetGroup)
		b = d.Group.Append(b)
	}
	if d.SACL != nil && d.Control&SACLPresent != 0 {
		put(sdOffsetSacl)
		b = appendACL(b, d.SACL)
	}
	if d.DACL != nil && d.Control&DACLPresent != 0 {
		put(sdOffsetDacl)
		b = appendACL(b, d.DACL)
	}
	return b
}

// Bytes is d in self-relative form.
func (d *Descriptor) Bytes() []byte { return d.Append(make([]byte, 0, d.Len())) }

// Clone returns a deep copy of d.
func (d *Descriptor) Clone() *Descriptor {
	c := *d
	c.DACL = d.DACL.clone()
	c.SACL = d.SACL.clone()
	return &c
}

// NullDACL reports whether d grants everything: a DACL is present but
// NULL (MS-DTYP 2.4.6: DP set, OffsetDacl zero).
func (d *Descriptor) NullDACL() bool { return d.Control&DACLPresent != 0 && d.DACL == nil }

// Filter returns a copy of d holding only the parts secInfo names, with
// the control bits of the parts left out cleared.
func (d *Descriptor) Filter(secInfo uint32) *Descriptor {
	c := &Descriptor{Sbz1: d.Sbz1, Control: SelfRelative | d.Control&(ServerSecurity|RMControlValid)}
	if secInfo&OwnerSecurityInformation != 0 {
		c.Owner = d.Owner
		c.Control |= d.Control & OwnerDefaulted
	}
	if secInfo&GroupSecurityInformation != 0 {
		c.Group = d.Group
		c.Control |= d.Control & GroupDefaulted
	}
	if secInfo&DACLSecurityInformation != 0 {
		c.DACL = d.DACL.clone()
		c.Control |= d.Control & daclControl
	}
	if secInfo&SACLSecurityInformation != 0 {
		c.SACL = d.SACL.clone()
		c.Control |= d.Control & saclControl
	}
	return c
}

// Merge returns a copy of stored with the parts secInfo names taken from
// in, as SET_INFO does. An owner or group bit whose SID in is absent is
// ignored (as Windows and Samba do). A DACL bit always replaces the DACL:
// when in has none, the result has a NULL DACL (DACLPresent, no ACL), and
// likewise for the SACL.
func Merge(stored, in *Descriptor, secInfo uint32) *Descriptor {
	out := stored.Clone()
	out.Control |= SelfRelative
	if secInfo&OwnerSecurityInformation != 0 && !in.Owner.IsZero() {
		out.Owner = in.Owner
		out.Control = out.Control&^OwnerDefaulted | in.Control&OwnerDefaulted
	}
	if secInfo&GroupSecurityInformation != 0 && !in.Group.IsZero() {
		out.Group = in.Group
		out.Control = out.Control&^GroupDefaulted | in.Control&GroupDefaulted
	}
	if secInfo&DACLSecurityInformation != 0 {
		out.DACL = nil
		if in.Control&DACLPresent != 0 {
			out.DACL = in.DACL.clone()
		}
		out.Control = out.Control&^daclControl | in.Control&daclControl | DACLPresent
	}
	if secInfo&SACLSecurityInformation != 0 {
		out.SACL = nil
		if in.Control&SACLPresent != 0 {
			out.SACL = in.SACL.clone()
		}
		out.Control = out.Control&^saclControl | in.Control&saclControl | SACLPresent
	}
	return out
}

// Canonicalize prepares a descriptor a client sets (SET_INFO or an SD
// create context) for storing, as Windows and Samba do: generic rights in
// the ACEs that apply to the object itself (not INHERIT_ONLY) are mapped
// through m, and SE_DACL_AUTO_INHERIT_REQ, a request rather than a
// property, is folded: DACL_AUTO_INHERITED stays only when the request
// carried both bits.
func (d *Descriptor) Canonicalize(m GenericMapping) {
	for _, l := range []*ACL{d.DACL, d.SACL} {
		if l == nil {
			continue
		}
		for i := range l.ACEs {
			if a := &l.ACEs[i]; hasSID(a.Type) && a.Flags&InheritOnly == 0 {
				a.Mask = m.Map(a.Mask)
			}
		}
	}
	both := DACLAutoInherited | DACLAutoInheritReq
	auto := d.Control&both == both
	d.Control &^= both
	if auto {
		d.Control |= DACLAutoInherited
	}
}
