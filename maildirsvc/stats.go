package maildirsvc

import (
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of a Server's counters since NewServer.
type Stats struct {
	Connections       int64 // connections accepted and served
	ActiveConnections int64 // connections open now
	RejectedConns     int64 // connections refused: max_connections or draining
	Deliveries        int64 // copies stored and answered 250 (recipients naming the same folder share one)
	DeliveredBytes    int64 // bytes stored by those deliveries
	// Failures counts refused or failed recipients by reason: bad_address,
	// unknown_recipient, quota, too_big, no_space, io, shutdown,
	// bad_message, internal.
	Failures map[string]int64
	Draining bool
}

type counters struct {
	conns, active, rejected, deliveries, bytes atomic.Int64
	mu                                         sync.Mutex
	failures                                   map[string]int64
}

func (c *counters) fail(err error) {
	r := outcomeOf(err).reason
	c.mu.Lock()
	if c.failures == nil {
		c.failures = make(map[string]int64)
	}
	c.failures[r]++
	c.mu.Unlock()
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Connections:       c.conns.Load(),
		ActiveConnections: c.active.Load(),
		RejectedConns:     c.rejected.Load(),
		Deliveries:        c.deliveries.Load(),
		DeliveredBytes:    c.bytes.Load(),
		Failures:          make(map[string]int64),
	}
	c.mu.Lock()
	for k, v := range c.failures {
		s.Failures[k] = v
	}
	c.mu.Unlock()
	return s
}
