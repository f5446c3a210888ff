package secdesc

import (
	"encoding/binary"
	"fmt"
)

// ACE types (MS-DTYP 2.4.4.1) Shoal interprets; others are kept as they
// came.
const (
	AccessAllowed         uint8 = 0x00 // ACCESS_ALLOWED_ACE_TYPE
	AccessDenied          uint8 = 0x01 // ACCESS_DENIED_ACE_TYPE
	SystemAudit           uint8 = 0x02 // SYSTEM_AUDIT_ACE_TYPE
	SystemAlarm           uint8 = 0x03 // SYSTEM_ALARM_ACE_TYPE
	AccessAllowedCallback uint8 = 0x09 // ACCESS_ALLOWED_CALLBACK_ACE_TYPE
	AccessDeniedCallback  uint8 = 0x0A // ACCESS_DENIED_CALLBACK_ACE_TYPE
	SystemAuditCallback   uint8 = 0x0D // SYSTEM_AUDIT_CALLBACK_ACE_TYPE
	SystemMandatoryLabel  uint8 = 0x11 // SYSTEM_MANDATORY_LABEL_ACE_TYPE
	SystemResourceAttr    uint8 = 0x12 // SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE
	SystemScopedPolicyID  uint8 = 0x13 // SYSTEM_SCOPED_POLICY_ID_ACE_TYPE
)

// ACE flags (MS-DTYP 2.4.4.1).
const (
	ObjectInherit      uint8 = 0x01 // OBJECT_INHERIT_ACE
	ContainerInherit   uint8 = 0x02 // CONTAINER_INHERIT_ACE
	NoPropagateInherit uint8 = 0x04 // NO_PROPAGATE_INHERIT_ACE
	InheritOnly        uint8 = 0x08 // INHERIT_ONLY_ACE
	Inherited          uint8 = 0x10 // INHERITED_ACE
	SuccessfulAccess   uint8 = 0x40 // SUCCESSFUL_ACCESS_ACE_FLAG
	FailedAccess       uint8 = 0x80 // FAILED_ACCESS_ACE_FLAG

	inheritFlags = ObjectInherit | ContainerInherit | NoPropagateInherit | InheritOnly
)

// ACL revisions (MS-DTYP 2.4.5). MS-DTYP names 2 and 4; Windows also
// accepts ACL_REVISION3, and Samba's smbcacls sends it.
const (
	ACLRevision   uint8 = 2 // ACL_REVISION
	ACLRevision3  uint8 = 3 // ACL_REVISION3
	ACLRevisionDS uint8 = 4 // ACL_REVISION_DS: may hold object ACEs
)

const (
	aceHeader = 4 // AceType, AceFlags, AceSize
	aclHeader = 8 // AclRevision, Sbz1, AclSize, AceCount, Sbz2
)

// ACE is one access control entry. For the types whose body is a mask
// followed by a SID (hasSID reports which), SID holds the trustee and
// Extra any bytes after it (callback conditions, attribute data,
// padding). For the others (object ACEs), SID is zero and Extra is the
// whole body after the mask.
type ACE struct {
	Type  uint8
	Flags uint8
	Mask  uint32
	SID   SID
	Extra []byte
}

// hasSID reports whether an ACE type's body is Mask then SID.
func hasSID(t uint8) bool {
	switch t {
	case AccessAllowed, AccessDenied, SystemAudit, SystemAlarm,
		AccessAllowedCallback, AccessDeniedCallback, SystemAuditCallback,
		SystemMandatoryLabel, SystemResourceAttr, SystemScopedPolicyID:
		return true
	}
	return false
}

// size is the encoded AceSize, padded to a multiple of four.
func (a *ACE) size() int {
	n := aceHeader + 4 + a.SID.Len() + len(a.Extra)
	return (n + 3) &^ 3
}

// appendACE encodes a, zero-padding to a multiple of four.
func appendACE(b []byte, a *ACE) []byte {
	size := a.size()
	start := len(b)
	b = append(b, a.Type, a.Flags)
	b = binary.LittleEndian.AppendUint16(b, uint16(size))
	b = binary.LittleEndian.AppendUint32(b, a.Mask)
	b = a.SID.Append(b)
	b = append(b, a.Extra...)
	for len(b)-start < size {
		b = append(b, 0)
	}
	return b
}

// parseACE reads one ACE from the start of b and returns it with its size.
func parseACE(b []byte) (ACE, int, error) {
	if len(b) < aceHeader+4 {
		return ACE{}, 0, fmt.Errorf("%w: ACE header needs %d bytes, have %d", ErrTruncated, aceHeader+4, len(b))
	}
	size := int(binary.LittleEndian.Uint16(b[2:]))
	if size < aceHeader+4 || size%4 != 0 {
		return ACE{}, 0, fmt.Errorf("%w: AceSize %d", ErrInvalidACL, size)
	}
	if size > len(b) {
		return ACE{}, 0, fmt.Errorf("%w: AceSize %d, %d bytes left", ErrTruncated, size, len(b))
	}
	a := ACE{Type: b[0], Flags: b[1], Mask: binary.LittleEndian.Uint32(b[4:])}
	body := b[aceHeader+4 : size]
	if hasSID(a.Type) {
		sid, n, err := ParseSID(body)
		if err != nil {
			return ACE{}, 0, fmt.Errorf("%w: ACE trustee: %w", ErrInvalidACL, err)
		}
		a.SID = sid
		body = body[n:]
	}
	if len(body) > 0 {
		a.Extra = append([]byte(nil), body...)
	}
	return a, size, nil
}

// ACL is an access control list (MS-DTYP 2.4.5).
type ACL struct {
	Revision uint8
	ACEs     []ACE
}

// size is the encoded AclSize.
func (l *ACL) size() int {
	n := aclHeader
	for i := range l.ACEs {
		n += l.ACEs[i].size()
	}
	return n
}

// appendACL encodes l.
func appendACL(b []byte, l *ACL) []byte {
	b = append(b, l.Revision, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(l.size()))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(l.ACEs)))
	b = append(b, 0, 0)
	for i := range l.ACEs {
		b = appendACE(b, &l.ACEs[i])
	}
	return b
}

// parseACL reads the ACL at the start of b. Bytes after the last ACE but
// within AclSize are ignored, as Windows does.
func parseACL(b []byte) (*ACL, error) {
	if len(b) < aclHeader {
		return nil, fmt.Errorf("%w: ACL header needs %d bytes, have %d", ErrTruncated, aclHeader, len(b))
	}
	rev := b[0]
	size := int(binary.LittleEndian.Uint16(b[2:]))
	count := int(binary.LittleEndian.Uint16(b[4:]))
	if rev < ACLRevision || rev > ACLRevisionDS {
		return nil, fmt.Errorf("%w: revision %d", ErrInvalidACL, rev)
	}
	if size < aclHeader {
		return nil, fmt.Errorf("%w: AclSize %d", ErrInvalidACL, size)
	}
	if size > len(b) {
		return nil, fmt.Errorf("%w: AclSize %d, %d bytes left", ErrTruncated, size, len(b))
	}
	// Every ACE takes at least 8 bytes: refuse a count that cannot fit
	// before allocating for it.
	if count > (size-aclHeader)/(aceHeader+4) {
		return nil, fmt.Errorf("%w: %d ACEs in %d bytes", ErrInvalidACL, count, size)
	}
	l := &ACL{Revision: rev, ACEs: make([]ACE, 0, count)}
	rest := b[aclHeader:size]
	for i := 0; i < count; i++ {
		a, n, err := parseACE(rest)
		if err != nil {
			return nil, fmt.Errorf("ACE %d: %w", i, err)
		}
		l.ACEs = append(l.ACEs, a)
		rest = rest[n:]
	}
	return l, nil
}

// clone returns a deep copy of l (nil for nil).
func (l *ACL) clone() *ACL {
	if l == nil {
		return nil
	}
	c := &ACL{Revision: l.Revision, ACEs: make([]ACE, len(l.ACEs))}
	for i, a := range l.ACEs {
		a.Extra = append([]byte(nil), a.Extra...)
		if len(a.Extra) == 0 {
			a.Extra = nil
		}
		c.ACEs[i] = a
	}
	return c
}
