package vfs

import (
	"fmt"
	"io/fs"
	"log/slog"
)

// Options configures a Share. The zero value is usable; DefaultOptions
// returns it with every default spelled out.
type Options struct {
	// ReadOnly refuses every change (ErrReadOnly): writes, creates,
	// deletes, renames, attribute and time changes.
	ReadOnly bool

	// CaseSensitive makes Resolve match names exactly, as a POSIX client
	// would want. The default is Windows semantics: case-insensitive,
	// case-preserving.
	CaseSensitive bool

	// Logger receives diagnostics (a corrupt DOS attribute record, a
	// directory too large to cache). Nil discards them.
	Logger *slog.Logger

	// DirPerm is the permission of directories made by Mkdir, before the
	// process umask. Zero means 0755.
	DirPerm fs.FileMode

	// DirCacheNames bounds the memory of the case-insensitive name cache:
	// the total number of names kept over all cached directories. The least
	// recently used directories are dropped first; a directory with more
	// names than this is never cached (lookups in it read it each time).
	// Each name costs its length twice plus about 100 bytes. Zero means
	// 262144 (about 40 MB for 20-byte names); negative disables the
	// cache, and every case-insensitive lookup then reads the directory.
	DirCacheNames int
}

const (
	defaultDirPerm       fs.FileMode = 0o755
	defaultDirCacheNames             = 1 << 18
)

// DefaultOptions returns the defaults: writable, case-insensitive, logs
// discarded, directories 0755, a 262144-name directory cache.
func DefaultOptions() Options {
	return Options{DirPerm: defaultDirPerm, DirCacheNames: defaultDirCacheNames}
}

// Validate reports an option a person has to fix.
func (o Options) Validate() error {
	if o.DirPerm&^fs.ModePerm != 0 {
		return fmt.Errorf("vfs: DirPerm %v has bits other than permissions (want e.g. 0755)", o.DirPerm)
	}
	return nil
}

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	if o.DirPerm == 0 {
		o.DirPerm = defaultDirPerm
	}
	if o.DirCacheNames == 0 {
		o.DirCacheNames = defaultDirCacheNames
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
