package lockdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// recLock is the recovery lock: an exclusive flock on <shared_dir>/reclock.
// The cluster filesystem's lock manager is the arbiter, so two partitions
// can never both have a coordinator. Not safe for concurrent use; the
// Cluster calls it from its coordinator loop only.
type recLock struct {
	path string
	f    *os.File
}

// tryLock attempts the lock without blocking. It reports whether this
// process now holds it.
func (r *recLock) tryLock() (bool, error) {
	if r.f != nil {
		return true, nil
	}
	f, err := os.OpenFile(r.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("lockdb: recovery lock %s: %w", r.path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EAGAIN) {
			return false, nil
		}
		return false, fmt.Errorf("lockdb: recovery lock %s: %w", r.path, err)
	}
	r.f = f
	return true, nil
}

// unlock releases the lock (closing the descriptor releases the flock).
func (r *recLock) unlock() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// genRecord is the last committed generation, kept next to the recovery
// lock and written only by its holder, so a new coordinator learns the
// exact node map whose leases may still be running.
type genRecord struct {
	Gen         uint64   `json:"gen"`
	Coordinator Peer     `json:"coordinator"`
	Nodes       []Member `json:"nodes"`
}

func readGenRecord(dir string) (genRecord, error) {
	var g genRecord
	b, err := os.ReadFile(filepath.Join(dir, "generation"))
	if errors.Is(err, os.ErrNotExist) {
		return g, nil
	}
	if err != nil {
		return g, fmt.Errorf("lockdb: generation record: %w", err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return g, fmt.Errorf("%w: generation record %s: %v", ErrProtocol, filepath.Join(dir, "generation"), err)
	}
	return g, nil
}

// writeGenRecord replaces the record atomically (temp file + fsync + rename).
func writeGenRecord(dir string, g genRecord) error {
	b, err := json.Marshal(g)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".generation-*")
	if err != nil {
		return fmt.Errorf("lockdb: generation record: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("lockdb: generation record: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("lockdb: generation record: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("lockdb: generation record: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, "generation")); err != nil {
		return fmt.Errorf("lockdb: generation record: %w", err)
	}
	return nil
}
