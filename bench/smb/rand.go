package main

import (
	crand "crypto/rand"
	"math/rand/v2"
)

// fastRand is an io.Reader of incompressible pseudo-random bytes (ChaCha8,
// seeded from crypto/rand): fast enough to make a 1 GiB file in a second.
type fastRand struct{ c *rand.ChaCha8 }

func newFastRand() *fastRand {
	var seed [32]byte
	cryptoRead(seed[:])
	return &fastRand{c: rand.NewChaCha8(seed)}
}

func (r *fastRand) Read(p []byte) (int, error) { return r.c.Read(p) }

func cryptoRead(b []byte) { crand.Read(b) }
