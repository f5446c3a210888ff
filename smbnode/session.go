package smbnode

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"shoal/smbnode/auth"
	"shoal/smbnode/smbcrypto"
)

// sessionState follows MS-SMB2 3.3.1.8 Session.State.
type sessionState int

const (
	sessionInProgress sessionState = iota
	sessionValid
	sessionExpired
)

// session is an authenticated user on a connection (MS-SMB2 3.3.1.8).
type session struct {
	id uint64

	mu              sync.Mutex
	state           sessionState
	auth            *auth.Session
	user            string
	domain          string
	guest           bool
	keys            *smbcrypto.Keys
	signingRequired bool
	encrypt         bool // Session.EncryptData
	preauth         [64]byte
	trees           map[uint32]*tree
	nextTreeID      uint32
	created         time.Time
	lastUsed        atomic.Int64

	// Fixed at creation from the first connection, for the binding checks
	// of 3.3.5.5 (multichannel.go): a new channel must match them.
	dialect    uint16
	cipher     uint16
	signAlg    smbcrypto.SigningAlgorithm
	clientGUID [16]byte
	// channels are the connections bound to the session (3.3.1.8
	// ChannelList), the first one included, each with its signing key.
	channels map[*conn]*channel

	nonceMu     sync.Mutex
	nonceCount  uint64
	noncePrefix [4]byte
}

func newSession(id uint64, preauth [64]byte) *session {
	s := &session{id: id, preauth: preauth, trees: map[uint32]*tree{}, nextTreeID: 1, created: time.Now()}
	rand.Read(s.noncePrefix[:])
	s.touch()
	return s
}

func (s *session) touch() { s.lastUsed.Store(time.Now().UnixNano()) }

func (s *session) getKeys() *smbcrypto.Keys {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys
}

func (s *session) valid() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == sessionValid
}

// nonce returns a fresh nonce for the encryption key: a random per-session
// prefix and a counter, so a nonce never repeats under one key.
func (s *session) nonce(cipher uint16) []byte {
	s.nonceMu.Lock()
	s.nonceCount++
	n := s.nonceCount
	s.nonceMu.Unlock()
	size := 11 // AES-CCM
	if cipher == smbcrypto.CipherAES128GCM || cipher == smbcrypto.CipherAES256GCM {
		size = 12
	}
	b := make([]byte, size)
	binary.LittleEndian.PutUint64(b, n)
	copy(b[8:], s.noncePrefix[:size-8])
	return b
}

func (s *session) tree(id uint32) *tree {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trees[id]
}

// logoff disconnects every tree of the session, closing their opens;
// durable opens are disconnected instead and wait for their client.
func (s *session) logoff(c *conn) {
	s.mu.Lock()
	trees := make([]*tree, 0, len(s.trees))
	for _, t := range s.trees {
		trees = append(trees, t)
	}
	s.trees = map[uint32]*tree{}
	s.state = sessionExpired
	s.mu.Unlock()
	for _, t := range trees {
		c.disconnectTreeOpens(t)
	}
}
