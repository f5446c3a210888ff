package secdesc

import "fmt"

// Access rights of files and directories (MS-DTYP 2.4.3, MS-SMB2 2.2.13.1).
const (
	FileReadData         uint32 = 0x00000001 // FILE_READ_DATA, FILE_LIST_DIRECTORY
	FileWriteData        uint32 = 0x00000002 // FILE_WRITE_DATA, FILE_ADD_FILE
	FileAppendData       uint32 = 0x00000004 // FILE_APPEND_DATA, FILE_ADD_SUBDIRECTORY
	FileReadEA           uint32 = 0x00000008 // FILE_READ_EA
	FileWriteEA          uint32 = 0x00000010 // FILE_WRITE_EA
	FileExecute          uint32 = 0x00000020 // FILE_EXECUTE, FILE_TRAVERSE
	FileDeleteChild      uint32 = 0x00000040 // FILE_DELETE_CHILD
	FileReadAttributes   uint32 = 0x00000080 // FILE_READ_ATTRIBUTES
	FileWriteAttributes  uint32 = 0x00000100 // FILE_WRITE_ATTRIBUTES
	Delete               uint32 = 0x00010000 // DELETE
	ReadControl          uint32 = 0x00020000 // READ_CONTROL
	WriteDAC             uint32 = 0x00040000 // WRITE_DAC
	WriteOwner           uint32 = 0x00080000 // WRITE_OWNER
	Synchronize          uint32 = 0x00100000 // SYNCHRONIZE
	AccessSystemSecurity uint32 = 0x01000000 // ACCESS_SYSTEM_SECURITY
	MaximumAllowed       uint32 = 0x02000000 // MAXIMUM_ALLOWED
	GenericAll           uint32 = 0x10000000 // GENERIC_ALL
	GenericExecute       uint32 = 0x20000000 // GENERIC_EXECUTE
	GenericWrite         uint32 = 0x40000000 // GENERIC_WRITE
	GenericRead          uint32 = 0x80000000 // GENERIC_READ

	FileAddFile         = FileWriteData  // FILE_ADD_FILE
	FileAddSubdirectory = FileAppendData // FILE_ADD_SUBDIRECTORY

	FileAllAccess      uint32 = 0x001F01FF // FILE_ALL_ACCESS
	FileGenericRead    uint32 = 0x00120089 // FILE_GENERIC_READ
	FileGenericWrite   uint32 = 0x00120116 // FILE_GENERIC_WRITE
	FileGenericExecute uint32 = 0x001200A0 // FILE_GENERIC_EXECUTE

	genericBits = GenericAll | GenericExecute | GenericWrite | GenericRead
)

// GenericMapping says what the four generic rights mean for one kind of
// object (MS-DTYP 2.5.3.3.1, GENERIC_MAPPING).
type GenericMapping struct {
	Read, Write, Execute, All uint32
}

// FileMapping is the generic mapping of files and directories.
var FileMapping = GenericMapping{
	Read:    FileGenericRead,
	Write:   FileGenericWrite,
	Execute: FileGenericExecute,
	All:     FileAllAccess,
}

// Map replaces the generic bits of mask by the rights they stand for.
func (m GenericMapping) Map(mask uint32) uint32 {
	if mask&GenericRead != 0 {
		mask |= m.Read
	}
	if mask&GenericWrite != 0 {
		mask |= m.Write
	}
	if mask&GenericExecute != 0 {
		mask |= m.Execute
	}
	if mask&GenericAll != 0 {
		mask |= m.All
	}
	return mask &^ genericBits
}

// Token is who asks for access: a user SID and the groups the user
// belongs to (for Shoal users: Everyone and Authenticated Users).
type Token struct {
	User   SID
	Groups []SID
}

// Has reports whether s is the token's user or one of its groups.
func (t *Token) Has(s SID) bool {
	if s.IsZero() {
		return false
	}
	if s == t.User {
		return true
	}
	for _, g := range t.Groups {
		if g == s {
			return true
		}
	}
	return false
}

// MaxAllowed returns every right d's DACL grants t, generic rights mapped
// through FileMapping (MS-DTYP 2.5.3.2, the MAXIMUM_ALLOWED path):
//
//   - no DACL or a NULL DACL grants FILE_ALL_ACCESS;
//   - the owner is granted READ_CONTROL and WRITE_DAC before any ACE is
//     looked at, unless the DACL holds an ACE for OWNER RIGHTS (S-1-3-4),
//     which then applies to the owner instead;
//   - ACEs are taken in order, INHERIT_ONLY ones skipped; an ACCESS_DENIED
//     ACE takes away the rights not granted by an earlier ACE, an
//     ACCESS_ALLOWED ACE adds the rights not denied by an earlier one. An
//     empty DACL therefore grants nothing but the owner's implicit rights.
//
// Other ACE types (object, callback, audit) do not take part.
// ACCESS_SYSTEM_SECURITY is a privilege, never granted here.
func MaxAllowed(d *Descriptor, t *Token) uint32 {
	if d.Control&DACLPresent == 0 || d.DACL == nil {
		return FileAllAccess
	}
	isOwner := t.Has(d.Owner)
	ownerRightsACE := false
	for i := range d.DACL.ACEs {
		if d.DACL.ACEs[i].SID == OwnerRights && d.DACL.ACEs[i].Flags&InheritOnly == 0 {
			ownerRightsACE = true
		}
	}
	var granted, denied uint32
	if isOwner && !ownerRightsACE {
		granted = ReadControl | WriteDAC
	}
	for i := range d.DACL.ACEs {
		a := &d.DACL.ACEs[i]
		if a.Flags&InheritOnly != 0 {
			continue
		}
		if !t.Has(a.SID) && !(a.SID == OwnerRights && isOwner) {
			continue
		}
		mask := FileMapping.Map(a.Mask)
		switch a.Type {
		case AccessAllowed:
			granted |= mask &^ denied
		case AccessDenied:
			denied |= mask &^ granted
		}
	}
	return granted &^ (AccessSystemSecurity | MaximumAllowed)
}

// Check decides an open: it maps the generic rights of desired and
// returns the rights granted, or ErrAccessDenied naming what is missing.
// With MAXIMUM_ALLOWED in desired the result is everything MaxAllowed
// grants (and must include the other rights desired asks for); a result
// of no rights at all is denied. ACCESS_SYSTEM_SECURITY is passed through
// untouched: holding the privilege is the caller's decision.
func Check(d *Descriptor, t *Token, desired uint32) (uint32, error) {
	want := FileMapping.Map(desired)
	sys := want & AccessSystemSecurity
	want &^= AccessSystemSecurity
	all := MaxAllowed(d, t)
	if want&MaximumAllowed != 0 {
		want &^= MaximumAllowed
		if missing := want &^ all; missing != 0 {
			return 0, fmt.Errorf("%w: 0x%08x not granted", ErrAccessDenied, missing)
		}
		if all == 0 && sys == 0 {
			return 0, fmt.Errorf("%w: nothing granted", ErrAccessDenied)
		}
		return all | sys, nil
	}
	if missing := want &^ all; missing != 0 {
		return 0, fmt.Errorf("%w: 0x%08x not granted", ErrAccessDenied, missing)
	}
	return want | sys, nil
}
