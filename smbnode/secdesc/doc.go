// Package secdesc reads, writes and evaluates Windows security descriptors
// (MS-DTYP 2.4.6) as SMB2 carries them: self-relative, little-endian.
//
// Parse checks every length, offset and count before it returns and never
// panics; Append encodes a Descriptor back. A parsed descriptor keeps what
// Shoal does not interpret (object and callback ACEs, application data
// after an ACE's SID, the resource-manager control byte), so a descriptor a
// client sets is returned byte-for-byte equivalent.
//
// The operations the SMB server needs on top of that:
//
//   - Merge applies a SET_INFO descriptor to a stored one, changing only the
//     parts the SecurityInformation bits name (owner, group, DACL, SACL).
//   - Canonicalize maps generic rights and folds DACL_AUTO_INHERIT_REQ in
//     a descriptor a client sets, as Windows and Samba store it.
//   - Filter keeps only the parts a QUERY_INFO asks for.
//   - Inherit builds the descriptor of a new file or directory from its
//     parent's (MS-DTYP 2.5.3.4, simplified: CONTAINER_INHERIT,
//     OBJECT_INHERIT, INHERIT_ONLY, NO_PROPAGATE_INHERIT, CREATOR OWNER and
//     CREATOR GROUP, INHERITED only under an auto-inherited parent).
//   - MaxAllowed and Check evaluate a DACL for a Token (MS-DTYP 2.5.3.2,
//     simplified: no privileges, no restricted SIDs, no conditional ACEs).
//
// Shoal users are not Windows domain accounts. DomainSID and UserSID map a
// server name and a user name to a stable S-1-5-21 SID, the same on every
// node that shares the server name.
//
// Every function is safe for concurrent use; a Descriptor is a plain value
// that callers must not share while modifying it.
package secdesc
