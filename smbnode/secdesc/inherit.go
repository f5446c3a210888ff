package secdesc

// Inherit builds the descriptor of a new file (isDir false) or directory
// created by a user whose token gives owner and group (MS-DTYP 2.5.3.4,
// simplified, with the choices Windows and Samba make for files). parent
// is the directory's descriptor (nil: none stored); creator is the
// descriptor the client supplied with the create (nil: none).
//
// Owner and group come from creator when it has them, else from the
// arguments. The DACL (and likewise the SACL) is creator's when its
// Present bit is set, a NULL one included. Otherwise it is made of the
// parent's inheritable ACEs:
//
//   - a file takes the OBJECT_INHERIT ACEs;
//   - a directory takes the CONTAINER_INHERIT ACEs as effective ACEs,
//     still inheritable unless NO_PROPAGATE_INHERIT is set, and the
//     OBJECT_INHERIT-only ACEs (without NO_PROPAGATE_INHERIT) as
//     INHERIT_ONLY ACEs that pass them on to files;
//   - in an effective ACE, CREATOR OWNER and CREATOR GROUP become owner
//     and group and generic rights are mapped; when such an ACE must also
//     pass on, it is split into the effective ACE and an INHERIT_ONLY copy
//     of the original;
//   - only when the parent's DACL is auto-inherited (DACL_AUTO_INHERITED)
//     are the new ACEs marked INHERITED and the child's DACL marked
//     auto-inherited;
//   - duplicate ACEs are dropped, the ACL revision is ACL_REVISION unless
//     an object ACE needs ACL_REVISION_DS.
//
// When nothing is inherited the DACL is the default one Windows gives a
// token without a default DACL of its own: FILE_ALL_ACCESS for the owner
// and for SYSTEM. No SACL is made up.
func Inherit(parent, creator *Descriptor, isDir bool, owner, group SID) *Descriptor {
	d := &Descriptor{Control: SelfRelative, Owner: owner, Group: group}
	if creator != nil {
		d.Sbz1 = creator.Sbz1
		if !creator.Owner.IsZero() {
			d.Owner = creator.Owner
			d.Control |= creator.Control & OwnerDefaulted
		}
		if !creator.Group.IsZero() {
			d.Group = creator.Group
			d.Control |= creator.Control & GroupDefaulted
		}
	}
	switch {
	case creator != nil && creator.Control&DACLPresent != 0:
		d.DACL = creator.DACL.clone()
		d.Control |= creator.Control & daclControl
	case parent != nil && parent.DACL != nil && parent.Control&DACLPresent != 0:
		auto := parent.Control&DACLAutoInherited != 0
		if aces := inheritACEs(parent.DACL, isDir, auto, d.Owner, d.Group); len(aces) > 0 {
			d.DACL = &ACL{Revision: revisionFor(aces), ACEs: aces}
			d.Control |= DACLPresent | parent.Control&DACLAutoInherited
			break
		}
		fallthrough
	default:
		d.DACL = defaultDACL(d.Owner)
		d.Control |= DACLPresent
	}
	switch {
	case creator != nil && creator.Control&SACLPresent != 0:
		d.SACL = creator.SACL.clone()
		d.Control |= creator.Control & saclControl
	case parent != nil && parent.SACL != nil && parent.Control&SACLPresent != 0:
		auto := parent.Control&SACLAutoInherited != 0
		if aces := inheritACEs(parent.SACL, isDir, auto, d.Owner, d.Group); len(aces) > 0 {
			d.SACL = &ACL{Revision: revisionFor(aces), ACEs: aces}
			d.Control |= SACLPresent | parent.Control&SACLAutoInherited
		}
	}
	return d
}

// defaultDACL grants the owner and SYSTEM everything.
func defaultDACL(owner SID) *ACL {
	return &ACL{Revision: ACLRevision, ACEs: []ACE{
		{Type: AccessAllowed, Mask: FileAllAccess, SID: owner},
		{Type: AccessAllowed, Mask: FileAllAccess, SID: LocalSystem},
	}}
}

// maxACLSize is the largest AclSize the 16-bit field holds.
const maxACLSize = 0xFFFF

// inheritACEs returns what a new child inherits from a parent ACL. Should
// splitting ACEs make the ACL outgrow its 16-bit size, the ACEs that do
// not fit are left out.
func inheritACEs(parent *ACL, isDir, auto bool, owner, group SID) []ACE {
	out := dedupe(inheritAll(parent, isDir, auto, owner, group))
	size := aclHeader
	for i := range out {
		if size += out[i].size(); size > maxACLSize {
			return out[:i]
		}
	}
	return out
}

func inheritAll(parent *ACL, isDir, auto bool, owner, group SID) []ACE {
	inherited := uint8(0)
	if auto {
		inherited = Inherited
	}
	var out []ACE
	for _, a := range parent.ACEs {
		a.Extra = append([]byte(nil), a.Extra...)
		if len(a.Extra) == 0 {
			a.Extra = nil
		}
		oi, ci, np := a.Flags&ObjectInherit != 0, a.Flags&ContainerInherit != 0, a.Flags&NoPropagateInherit != 0
		other := a.Flags &^ (inheritFlags | Inherited)
		switch {
		case !isDir && oi, isDir && ci && np:
			// Effective on the child, passed on no further.
			e := effective(a, owner, group)
			e.Flags = other | inherited
			out = append(out, e)
		case isDir && ci:
			// Effective on the child and passed on.
			e := effective(a, owner, group)
			if e.SID == a.SID && e.Mask == a.Mask {
				a.Flags = a.Flags&^(InheritOnly|Inherited) | inherited
				out = append(out, a)
				continue
			}
			e.Flags = other | inherited
			a.Flags = a.Flags&^Inherited | InheritOnly | inherited
			out = append(out, e, a)
		case isDir && oi && !np:
			// Only passed on, to the files below.
			a.Flags = a.Flags&^Inherited | InheritOnly | inherited
			out = append(out, a)
		}
	}
	return out
}

// effective is a with CREATOR OWNER/GROUP replaced and generic rights
// mapped, as it applies to the object itself.
func effective(a ACE, owner, group SID) ACE {
	if !hasSID(a.Type) {
		return a
	}
	switch a.SID {
	case CreatorOwner:
		if !owner.IsZero() {
			a.SID = owner
		}
	case CreatorGroup:
		if !group.IsZero() {
			a.SID = group
		}
	}
	a.Mask = FileMapping.Map(a.Mask)
	return a
}

// dedupe drops ACEs equal to an earlier one.
func dedupe(aces []ACE) []ACE {
	out := aces[:0]
next:
	for _, a := range aces {
		for _, b := range out {
			if a.Type == b.Type && a.Flags == b.Flags && a.Mask == b.Mask && a.SID == b.SID && string(a.Extra) == string(b.Extra) {
				continue next
			}
		}
		out = append(out, a)
	}
	return out
}

// revisionFor is the ACL revision a list of ACEs needs: ACL_REVISION_DS
// when it holds an object ACE (one whose body is not mask and SID).
func revisionFor(aces []ACE) uint8 {
	for i := range aces {
		if !hasSID(aces[i].Type) {
			return ACLRevisionDS
		}
	}
	return ACLRevision
}
