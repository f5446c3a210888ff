package vfs

import "encoding/binary"

// SecurityInformation bits asked for by QUERY_INFO (MS-DTYP 2.4.7).
const (
	OwnerSecurityInformation uint32 = 0x00000001 // OWNER_SECURITY_INFORMATION
	GroupSecurityInformation uint32 = 0x00000002 // GROUP_SECURITY_INFORMATION
	DACLSecurityInformation  uint32 = 0x00000004 // DACL_SECURITY_INFORMATION
	SACLSecurityInformation  uint32 = 0x00000008 // SACL_SECURITY_INFORMATION
)

// Access masks (MS-DTYP 2.4.3, MS-SMB2 2.2.13.1.1).
const (
	fileGenericRead    uint32 = 0x00120089 // FILE_GENERIC_READ
	fileGenericWrite   uint32 = 0x00120116 // FILE_GENERIC_WRITE
	fileGenericExecute uint32 = 0x001200A0 // FILE_GENERIC_EXECUTE
	fileAllAccess      uint32 = 0x001F01FF // FILE_ALL_ACCESS
	accessDelete       uint32 = 0x00010000 // DELETE
	fileDeleteChild    uint32 = 0x00000040 // FILE_DELETE_CHILD
)

// Security descriptor layout (MS-DTYP 2.4.6, 2.4.5, 2.4.4.2, 2.4.2.2).
const (
	sdHeaderSize       = 20
	sdControlDACL      = 0x0004 // SE_DACL_PRESENT
	sdControlSelfRel   = 0x8000 // SE_SELF_RELATIVE
	aclHeaderSize      = 8
	aclRevision        = 2
	aceHeaderSize      = 4
	accessAllowedACE   = 0x00 // ACCESS_ALLOWED_ACE_TYPE
	sidRevision        = 1
	unixUsersAuthority = 22 // S-1-22-1-<uid> (Samba's Unix user SIDs)
	worldAuthority     = 1  // S-1-1-0 Everyone
)

// SecurityDescriptor returns a self-relative security descriptor for a
// file with info's owner, group and mode: owner S-1-22-1-<uid>, group
// S-1-22-2-<gid>, and a DACL with one ACCESS_ALLOWED ACE each for owner,
// group and Everyone (S-1-1-0) mapping the rwx bits to FILE_GENERIC_*
// masks (rwx together to FILE_ALL_ACCESS; write on a directory also
// grants FILE_DELETE_CHILD). Only the parts secInfo asks for are present;
// a SACL is never returned (the descriptor has none). Safe for concurrent
// use.
func SecurityDescriptor(info Info, secInfo uint32) []byte {
	var owner, group, dacl []byte
	if secInfo&OwnerSecurityInformation != 0 {
		owner = appendSID(nil, unixUsersAuthority, 1, info.UID)
	}
	if secInfo&GroupSecurityInformation != 0 {
		group = appendSID(nil, unixUsersAuthority, 2, info.GID)
	}
	control := uint16(sdControlSelfRel)
	if secInfo&DACLSecurityInformation != 0 {
		control |= sdControlDACL
		perm := uint32(info.Mode.Perm())
		dacl = appendACL(nil, []ace{
			{appendSID(nil, unixUsersAuthority, 1, info.UID), rwxMask(perm>>6, info.IsDir)},
			{appendSID(nil, unixUsersAuthority, 2, info.GID), rwxMask(perm>>3, info.IsDir)},
			{appendSID(nil, worldAuthority, 0), rwxMask(perm, info.IsDir)},
		})
	}
	b := make([]byte, sdHeaderSize, sdHeaderSize+len(owner)+len(group)+len(dacl))
	b[0] = 1 // Revision
	binary.LittleEndian.PutUint16(b[2:], control)
	off := func(part []byte, at int) {
		if part != nil {
			binary.LittleEndian.PutUint32(b[at:], uint32(len(b)))
			b = append(b, part...)
		}
	}
	off(owner, 4)
	off(group, 8)
	// 12: OffsetSacl stays 0.
	off(dacl, 16)
	return b
}

type ace struct {
	sid  []byte
	mask uint32
}

// rwxMask maps the low three mode bits to an access mask.
func rwxMask(bits uint32, isDir bool) uint32 {
	bits &= 7
	if bits == 7 {
		return fileAllAccess
	}
	var m uint32
	if bits&4 != 0 {
		m |= fileGenericRead
	}
	if bits&2 != 0 {
		m |= fileGenericWrite | accessDelete
		if isDir {
			m |= fileDeleteChild
		}
	}
	if bits&1 != 0 {
		m |= fileGenericExecute
	}
	return m
}

// appendSID encodes a SID (MS-DTYP 2.4.2.2) with a 48-bit authority and
// the given sub-authorities.
func appendSID(b []byte, authority uint64, subs ...uint32) []byte {
	b = append(b, sidRevision, byte(len(subs)))
	for i := 5; i >= 0; i-- {
		b = append(b, byte(authority>>(8*i)))
	}
	for _, s := range subs {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return b
}

// appendACL encodes an ACL of ACCESS_ALLOWED ACEs (MS-DTYP 2.4.5, 2.4.4.2),
// leaving out ACEs that grant nothing.
func appendACL(b []byte, aces []ace) []byte {
	start := len(b)
	b = append(b, aclRevision, 0, 0, 0, 0, 0, 0, 0)
	count := 0
	for _, a := range aces {
		if a.mask == 0 {
			continue
		}
		size := aceHeaderSize + 4 + len(a.sid)
		b = append(b, accessAllowedACE, 0)
		b = binary.LittleEndian.AppendUint16(b, uint16(size))
		b = binary.LittleEndian.AppendUint32(b, a.mask)
		b = append(b, a.sid...)
		count++
	}
	binary.LittleEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	binary.LittleEndian.PutUint16(b[start+4:], uint16(count))
	return b
}
