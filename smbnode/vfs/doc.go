// Package vfs is everything the SMB server does to files of one share:
// names, metadata and the system calls, on top of the shared cluster
// filesystem.
//
// A Share is opened on a directory and never lets a path leave it: public
// opens go through os.Root, internal directory and metadata opens through
// openat2(2) with RESOLVE_BENEATH (falling back to os.Root on kernels
// without openat2), so neither ".." nor a symlink can escape.
//
// Clients speak Windows names: separated by backslashes, compared without
// case, forbidden characters and all. Resolve turns a client path into the
// on-disk relative path that every other method takes. An exact match costs
// one openat2; a name in another case is found through a per-directory
// cache (upper-cased name → on-disk name) built with one readdir and
// validated against the directory's inode, mtime and ctime, so a directory
// changed by another node behind our back is re-read, while our own
// creates, renames and deletes update the cache in place. See dircache.go.
//
// DOS attributes and the timestamps the kernel cannot set (creation time,
// change time) live in one extended attribute, "user.shoal.dos"; see
// dosattrib.go for its layout.
//
// Every method of Share, and every function in the package, is safe for
// concurrent use by many connection goroutines. Files returned by OpenFile
// belong to the caller, who closes them; the SMB layer owns handles,
// share modes and locks.
//
// Errors are wrapped package sentinels (ErrNotExist, ErrExist, ...) that
// also wrap the system call error, so both errors.Is(err, vfs.ErrNotExist)
// and errors.Is(err, fs.ErrNotExist) hold. The SMB layer maps them to
// NTSTATUS in one table.
package vfs
