package lockdb

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// clusterKeySize is the size of the cluster key in bytes (stored as hex).
const clusterKeySize = 32

// LoadOrCreateKey returns the cluster key in path, creating it if absent:
// the first node writes a random key to an O_EXCL temporary file with mode
// 0600 and links it into place, so concurrent first starts agree on one key
// and nobody ever reads a half-written file.
func LoadOrCreateKey(path string) ([]byte, error) {
	for attempt := 0; attempt < 50; attempt++ {
		k, err := readKey(path)
		if err == nil {
			return k, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		err = createKey(path)
		if err == nil || errors.Is(err, os.ErrExist) {
			continue
		}
		return nil, err
	}
	return nil, fmt.Errorf("lockdb: cluster.key_file %s: could not create or read", path)
}

func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: cluster.key_file: %v", ErrConfig, err)
	}
	s := strings.TrimSpace(string(b))
	k, err := hex.DecodeString(s)
	if err != nil || len(k) < 16 {
		return nil, fmt.Errorf("%w: cluster.key_file %s: want at least 32 hex digits", ErrConfig, path)
	}
	return k, nil
}

func createKey(path string) error {
	k := make([]byte, clusterKeySize)
	if _, err := rand.Read(k); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.%d.%d", filepath.Base(path), os.Getpid(), time.Now().UnixNano()))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%w: cluster.key_file: %v", ErrConfig, err)
	}
	defer os.Remove(tmp)
	_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("%w: cluster.key_file: %v", ErrConfig, err)
	}
	// link fails with EEXIST when another node won the race.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return os.ErrExist
		}
		return fmt.Errorf("%w: cluster.key_file: %v", ErrConfig, err)
	}
	return nil
}
