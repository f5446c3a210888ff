package lockdb

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// store is the node-local bbolt file state_dir/lockdb.db. Safe for
// concurrent use (bbolt serialises writers).
type store struct {
	db *bolt.DB
}

var (
	bucketDurable = []byte("durable") // open id → owned record (JSON)
	bucketUsers   = []byte("users")   // name → NT hash (16 bytes)
	bucketMeta    = []byte("meta")    // "users_version" → uint64
	keyUsersVer   = []byte("users_version")
)

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: state_dir %s: %v", ErrStore, dir, err)
	}
	db, err := bolt.Open(filepath.Join(dir, "lockdb.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrStore, filepath.Join(dir, "lockdb.db"), err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDurable, bucketUsers, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

func (s *store) putDurable(id string, rec []byte) error {
	return s.wrap(s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDurable).Put([]byte(id), rec)
	}))
}

func (s *store) deleteDurable(id string) error {
	return s.wrap(s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDurable).Delete([]byte(id))
	}))
}

func (s *store) listDurable() (map[string][]byte, error) {
	out := make(map[string][]byte)
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDurable).ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	return out, s.wrap(err)
}

func (s *store) wrap(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	return nil
}

// userOp is one change to the replicated users table.
type userOp struct {
	Version uint64   `json:"v"`
	Name    string   `json:"name"`
	Delete  bool     `json:"del,omitempty"`
	Hash    [16]byte `json:"hash"`
}

// userSnapshot is the whole users table at a version.
type userSnapshot struct {
	Version uint64              `json:"v"`
	Users   map[string][16]byte `json:"users"`
}

func getVer(tx *bolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(keyUsersVer)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putVer(tx *bolt.Tx, v uint64) error {
	return tx.Bucket(bucketMeta).Put(keyUsersVer, binary.BigEndian.AppendUint64(nil, v))
}

func (s *store) usersVersion() uint64 {
	var v uint64
	s.db.View(func(tx *bolt.Tx) error { v = getVer(tx); return nil })
	return v
}

// applyUserOp applies op if it is the next version; it reports false when
// the local table is behind (the caller then pulls a snapshot). Ops at or
// below the local version are ignored.
func (s *store) applyUserOp(op userOp) (bool, error) {
	ok := true
	err := s.db.Update(func(tx *bolt.Tx) error {
		cur := getVer(tx)
		if op.Version <= cur {
			return nil
		}
		if op.Version != cur+1 {
			ok = false
			return nil
		}
		b := tx.Bucket(bucketUsers)
		var err error
		if op.Delete {
			err = b.Delete([]byte(op.Name))
		} else {
			err = b.Put([]byte(op.Name), op.Hash[:])
		}
		if err != nil {
			return err
		}
		return putVer(tx, op.Version)
	})
	return ok, s.wrap(err)
}

// nextUserOp assigns the next version to a change (coordinator only) and
// applies it in one transaction. It fails with ErrNoSuchUser when deleting
// an absent name.
func (s *store) nextUserOp(name string, del bool, hash [16]byte) (userOp, error) {
	var op userOp
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if del && b.Get([]byte(name)) == nil {
			return ErrNoSuchUser
		}
		op = userOp{Version: getVer(tx) + 1, Name: name, Delete: del, Hash: hash}
		var err error
		if del {
			err = b.Delete([]byte(name))
		} else {
			err = b.Put([]byte(name), hash[:])
		}
		if err != nil {
			return err
		}
		return putVer(tx, op.Version)
	})
	if err == ErrNoSuchUser {
		return op, err
	}
	return op, s.wrap(err)
}

func (s *store) userSnapshot() (userSnapshot, error) {
	snap := userSnapshot{Users: make(map[string][16]byte)}
	err := s.db.View(func(tx *bolt.Tx) error {
		snap.Version = getVer(tx)
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var h [16]byte
			if len(v) != 16 {
				return fmt.Errorf("user %q: hash of %d bytes", k, len(v))
			}
			copy(h[:], v)
			snap.Users[string(k)] = h
			return nil
		})
	})
	return snap, s.wrap(err)
}

// installUsers replaces the table with a newer snapshot.
func (s *store) installUsers(snap userSnapshot) error {
	return s.wrap(s.db.Update(func(tx *bolt.Tx) error {
		if snap.Version <= getVer(tx) {
			return nil
		}
		if err := tx.DeleteBucket(bucketUsers); err != nil {
			return err
		}
		b, err := tx.CreateBucket(bucketUsers)
		if err != nil {
			return err
		}
		for n, h := range snap.Users {
			if err := b.Put([]byte(n), h[:]); err != nil {
				return err
			}
		}
		return putVer(tx, snap.Version)
	}))
}

func (s *store) ntHash(name string) ([16]byte, bool) {
	var h [16]byte
	ok := false
	s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketUsers).Get([]byte(name))
		if len(v) == 16 {
			copy(h[:], v)
			ok = true
		}
		return nil
	})
	return h, ok
}

func (s *store) userNames() []string {
	var out []string
	s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	sort.Strings(out)
	return out
}

// clearDurable forgets every durable-open record (the node was fenced:
// its handles are gone from the cluster).
func (s *store) clearDurable() error {
	return s.wrap(s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketDurable); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketDurable)
		return err
	}))
}
