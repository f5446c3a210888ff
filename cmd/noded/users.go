package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// loadUsersFile reads a node's user table until the replicated table of
// the lock database replaces it: one "name:NT-hash-hex" a line.
func loadUsersFile(path string) (*staticUsers, error) {
	u := newStaticUsers()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return u, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, hx, ok := strings.Cut(t, ":")
		b, err := hex.DecodeString(hx)
		if !ok || err != nil || len(b) != 16 {
			return nil, fmt.Errorf("%s:%d: want name:32-hex-digit NT hash", path, line)
		}
		var h [16]byte
		copy(h[:], b)
		u.mu.Lock()
		u.m[strings.ToLower(name)] = h
		u.mu.Unlock()
	}
	return u, sc.Err()
}
