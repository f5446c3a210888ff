package vfs

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

var (
	// ErrNotExist means the final component of a path does not exist
	// (STATUS_OBJECT_NAME_NOT_FOUND). Resolve returns it together with a
	// usable relative path, so the caller can create the file.
	ErrNotExist = errors.New("vfs: no such file or directory")

	// ErrPathNotFound means an intermediate component of a path does not
	// exist or is not a directory (STATUS_OBJECT_PATH_NOT_FOUND).
	ErrPathNotFound = errors.New("vfs: path not found")

	// ErrExist means the target already exists (STATUS_OBJECT_NAME_COLLISION).
	ErrExist = errors.New("vfs: file exists")

	// ErrInvalidName means a client path has a component Windows would
	// reject: a stream (":"), a wildcard or other forbidden character, a
	// control character, "." or "..", a trailing space or dot, an empty
	// component, or more than 255 bytes (STATUS_OBJECT_NAME_INVALID).
	ErrInvalidName = errors.New("vfs: invalid name")

	// ErrInvalid means an argument is not acceptable to the filesystem,
	// such as moving a directory into itself (STATUS_INVALID_PARAMETER).
	ErrInvalid = errors.New("vfs: invalid argument")

	// ErrDirNotEmpty means a directory to be removed still has entries
	// (STATUS_DIRECTORY_NOT_EMPTY).
	ErrDirNotEmpty = errors.New("vfs: directory not empty")

	// ErrNotDir means a directory was required (STATUS_NOT_A_DIRECTORY).
	ErrNotDir = errors.New("vfs: not a directory")

	// ErrIsDir means a non-directory was required, or a rename would replace
	// a directory (STATUS_FILE_IS_A_DIRECTORY or STATUS_ACCESS_DENIED).
	ErrIsDir = errors.New("vfs: is a directory")

	// ErrAccess means the operating system refused the operation
	// (EACCES, EPERM; STATUS_ACCESS_DENIED).
	ErrAccess = errors.New("vfs: permission denied")

	// ErrReadOnly means the share is read-only, or the filesystem is
	// (STATUS_MEDIA_WRITE_PROTECTED or STATUS_ACCESS_DENIED).
	ErrReadOnly = errors.New("vfs: read-only share")

	// ErrEscape means a path, through ".." or a symlink, leads outside the
	// share (STATUS_ACCESS_DENIED or STATUS_OBJECT_PATH_NOT_FOUND).
	ErrEscape = errors.New("vfs: path escapes the share")

	// ErrNoSpace means the filesystem or the user's quota is full
	// (STATUS_DISK_FULL).
	ErrNoSpace = errors.New("vfs: no space left")

	// ErrNotSupported means the filesystem lacks a feature, in practice
	// user extended attributes for DOS attributes and creation times
	// (STATUS_NOT_SUPPORTED).
	ErrNotSupported = errors.New("vfs: not supported by the filesystem")

	// ErrIO is an input/output error from the filesystem
	// (STATUS_UNEXPECTED_IO_ERROR).
	ErrIO = errors.New("vfs: input/output error")

	// ErrClosed is returned by calls on a Share after Close.
	ErrClosed = errors.New("vfs: share closed")
)

// osEscapeText is the text of os.Root's unexported escape error
// ("path escapes from parent"); os offers no value to compare with.
const osEscapeText = "path escapes from parent"

// classify wraps err, an error from the operating system or os, in the
// matching package sentinel, keeping the original in the chain. Errors that
// are already classified, and errors no sentinel fits, keep their identity
// apart from the "op path:" prefix.
func classify(op, rel string, err error) error {
	if err == nil {
		return nil
	}
	var sentinel error
	var errno syscall.Errno
	switch {
	case isClassified(err):
		return err
	case errors.As(err, &errno):
		sentinel = errnoSentinel(errno)
	case errors.Is(err, os.ErrClosed):
		sentinel = ErrClosed
	case strings.Contains(err.Error(), osEscapeText):
		sentinel = ErrEscape
	}
	if sentinel == nil {
		return fmt.Errorf("vfs: %s %q: %w", op, rel, err)
	}
	return fmt.Errorf("%w: %s %q: %w", sentinel, op, rel, err)
}

// errnoSentinel maps one errno to its sentinel, or nil.
func errnoSentinel(e syscall.Errno) error {
	switch e {
	case syscall.ENOENT:
		return ErrNotExist
	case syscall.EEXIST:
		return ErrExist
	case syscall.ENOTEMPTY:
		return ErrDirNotEmpty
	case syscall.ENOTDIR:
		return ErrNotDir
	case syscall.EISDIR:
		return ErrIsDir
	case syscall.EACCES, syscall.EPERM, syscall.ETXTBSY, syscall.EBUSY:
		return ErrAccess
	case syscall.EROFS:
		return ErrReadOnly
	case syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG:
		return ErrNoSpace
	case syscall.EXDEV:
		// From openat2 RESOLVE_BENEATH: the path would leave the root.
		return ErrEscape
	case syscall.ENAMETOOLONG, syscall.EILSEQ:
		return ErrInvalidName
	case syscall.EINVAL:
		return ErrInvalid
	case syscall.ELOOP:
		// Too many symlinks, or a symlink where none may be followed.
		return ErrEscape
	case syscall.ENOTSUP, syscall.ENOSYS:
		return ErrNotSupported
	case syscall.EIO:
		return ErrIO
	}
	return nil
}

var sentinels = []error{
	ErrNotExist, ErrPathNotFound, ErrExist, ErrInvalidName, ErrInvalid,
	ErrDirNotEmpty, ErrNotDir, ErrIsDir, ErrAccess, ErrReadOnly, ErrEscape,
	ErrNoSpace, ErrNotSupported, ErrIO, ErrClosed,
}

func isClassified(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// pathNotFound reports a missing or non-directory intermediate component.
// cause is the raw errno, never a sentinel: the result must not also match
// ErrNotExist.
func pathNotFound(op, rel string, cause syscall.Errno) error {
	return fmt.Errorf("%w: %s %q: %w", ErrPathNotFound, op, rel, cause)
}
