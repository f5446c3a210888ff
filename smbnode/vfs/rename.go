package vfs

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Rename moves oldRel to newRel, both on-disk relative paths; the last
// component of newRel is the new name as the client spelled it (see
// ResolveTarget). An existing target — the exact name, or on a
// case-insensitive share a name differing only in case — gives ErrExist
// unless replace is set; a directory is never replaced (ErrIsDir).
// Changing only the case of a name is a rename like any other. Without
// replace the kernel checks atomically (renameat2 RENAME_NOREPLACE). Name
// caches of both directories stay coherent. Safe for concurrent use.
func (s *Share) Rename(oldRel, newRel string, replace bool) error {
	if err := checkRel(oldRel); err != nil {
		return err
	}
	if err := checkRel(newRel); err != nil {
		return err
	}
	if oldRel == "" || newRel == "" {
		return fmt.Errorf("%w: rename of or onto the share root", ErrAccess)
	}
	if err := s.checkWritable("rename", oldRel); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()

	odir, oname := splitRel(oldRel)
	ndir, nname := splitRel(newRel)
	sameDir := odir == ndir
	defer s.lockDirs(odir, ndir)()
	och := s.beginChange(odir)
	nch := och
	if !sameDir {
		nch = s.beginChange(ndir)
	}
	ofd, err := s.openParent(odir)
	if err != nil {
		return parentError("rename", oldRel, err)
	}
	defer unix.Close(ofd)
	nfd := ofd
	if !sameDir {
		if nfd, err = s.openParent(ndir); err != nil {
			return parentError("rename", newRel, err)
		}
		defer unix.Close(nfd)
	}

	var src unix.Statx_t
	if err := statxAt(ofd, oname, &src); err != nil {
		return classify("rename", oldRel, err)
	}
	srcIsDir := src.Mode&unix.S_IFMT == unix.S_IFDIR
	if oldRel == newRel {
		return nil
	}

	victim, victimIsDir := s.renameVictim(nfd, ndir, nname, sameDir, oname)
	switch {
	case victim == "":
		err = renameNoReplace(ofd, oname, nfd, nname)
	case !replace:
		return fmt.Errorf("%w: rename %q: %q exists", ErrExist, oldRel, joinRel(ndir, victim))
	case victimIsDir:
		return fmt.Errorf("%w: rename %q: will not replace directory %q", ErrIsDir, oldRel, joinRel(ndir, victim))
	case srcIsDir:
		// rename(2) cannot put a directory over a file; Windows can.
		if err = ignoringEINTR(func() error { return unix.Unlinkat(nfd, victim, 0) }); err == nil {
			err = renameNoReplace(ofd, oname, nfd, nname)
		}
	default:
		// Replace atomically under the victim's spelling, then take the
		// client's spelling (a no-op when they are the same).
		err = ignoringEINTR(func() error { return unix.Renameat2(ofd, oname, nfd, victim, 0) })
		if err == nil && victim != nname {
			err = renameNoReplace(nfd, victim, nfd, nname)
		}
	}
	if err != nil {
		return classify("rename", oldRel, err)
	}

	if sameDir {
		s.endChange(och, func(d *dirNames) {
			d.removeName(oname)
			if victim != "" {
				d.removeName(victim)
			}
			d.addName(nname)
		})
	} else {
		s.endChange(och, func(d *dirNames) { d.removeName(oname) })
		s.endChange(nch, func(d *dirNames) {
			if victim != "" {
				d.removeName(victim)
			}
			d.addName(nname)
		})
	}
	if srcIsDir && s.cache != nil {
		s.cache.drop(oldRel, true)
		s.cache.drop(newRel, true)
	}
	return nil
}

// renameVictim finds the entry a rename to nname in directory ndir (open
// as nfd) would replace: nname itself, or on a case-insensitive share a
// name differing only in case — but not the source itself (oname in the
// same directory), which is a case-only rename. The caller holds enter.
func (s *Share) renameVictim(nfd int, ndir, nname string, sameDir bool, oname string) (string, bool) {
	var st unix.Statx_t
	if statxAt(nfd, nname, &st) == nil {
		return nname, st.Mode&unix.S_IFMT == unix.S_IFDIR
	}
	if s.opts.CaseSensitive {
		return "", false
	}
	real, found, err := s.lookupFold(ndir, nname, true)
	if err != nil || !found || (sameDir && real == oname) {
		return "", false
	}
	if statxAt(nfd, real, &st) != nil {
		return "", false
	}
	return real, st.Mode&unix.S_IFMT == unix.S_IFDIR
}

// renameNoReplace renames without replacing (EEXIST if the target
// exists). Filesystems without RENAME_NOREPLACE (EINVAL; NFS, some FUSE)
// get a check followed by a plain rename, which another node can race.
func renameNoReplace(ofd int, oname string, nfd int, nname string) error {
	err := ignoringEINTR(func() error { return unix.Renameat2(ofd, oname, nfd, nname, unix.RENAME_NOREPLACE) })
	if err != unix.EINVAL {
		return err
	}
	var st unix.Statx_t
	switch err := statxAt(nfd, nname, &st); err {
	case nil:
		return unix.EEXIST
	case unix.ENOENT:
	default:
		return err
	}
	return ignoringEINTR(func() error { return unix.Renameat(ofd, oname, nfd, nname) })
}
