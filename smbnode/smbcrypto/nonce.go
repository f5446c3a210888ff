package smbcrypto

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
)

// NonceSource hands out encryption nonces that never repeat for one key:
// a 64-bit counter followed by random bytes chosen when the source was
// created. Use one NonceSource per encryption key (per session and
// direction) and never recreate it while the key lives. Safe for
// concurrent use.
type NonceSource struct {
	mu     sync.Mutex
	next   uint64
	used   bool // next has wrapped to zero after being used: exhausted
	suffix [4]byte
}

// NewNonceSource returns a NonceSource with a random suffix.
func NewNonceSource() *NonceSource {
	ns := &NonceSource{}
	rand.Read(ns.suffix[:]) // crypto/rand.Read never fails (Go 1.24+)
	return ns
}

// Next returns a fresh nonce of NonceSize(cipher) bytes: the 8-byte
// little-endian counter, then 3 (CCM) or 4 (GCM) suffix bytes. After 2^64
// nonces it returns ErrNonceExhausted.
func (s *NonceSource) Next(cipherID uint16) ([]byte, error) {
	n := NonceSize(cipherID)
	if n == 0 {
		return nil, fmt.Errorf("%w: 0x%04x", ErrUnknownCipher, cipherID)
	}
	s.mu.Lock()
	if s.used {
		s.mu.Unlock()
		return nil, ErrNonceExhausted
	}
	c := s.next
	s.next++
	s.used = s.next == 0
	s.mu.Unlock()
	nonce := make([]byte, n)
	binary.LittleEndian.PutUint64(nonce, c)
	copy(nonce[8:], s.suffix[:])
	return nonce, nil
}
