package lockdb

import (
	"encoding/binary"
	"fmt"
)

// Member is one node as gossip sees it.
type Member struct {
	Name        string
	Addr        string // RPC address
	Incarnation uint64
}

func (m Member) peer() Peer { return Peer{Name: m.Name, Incarnation: m.Incarnation} }

// Membership tells a node who is alive. It never decides a lock: the
// coordinator only uses it to propose a node map, and every member of the
// map must answer FREEZE itself.
type Membership interface {
	// Start announces self and joins the cluster. Called once.
	Start(self Member) error
	// Members returns the members believed alive, self included. Safe for
	// concurrent use.
	Members() []Member
	// Changed delivers a value after Members may have changed. The channel
	// is shared: receivers must tolerate coalesced signals.
	Changed() <-chan struct{}
	// Close leaves the cluster and stops gossip.
	Close() error
}

// encodeMeta packs a member's metadata (incarnation, RPC address) for
// memberlist's NodeMeta.
func encodeMeta(m Member) []byte {
	b := []byte{1}
	b = binary.BigEndian.AppendUint64(b, m.Incarnation)
	return append(b, m.Addr...)
}

// parseMeta is the inverse of encodeMeta; it checks every length.
func parseMeta(name string, b []byte) (Member, error) {
	if len(b) < 9 || b[0] != 1 {
		return Member{}, fmt.Errorf("%w: member %q metadata of %d bytes", ErrProtocol, name, len(b))
	}
	m := Member{Name: name, Incarnation: binary.BigEndian.Uint64(b[1:9]), Addr: string(b[9:])}
	if m.Addr == "" {
		return Member{}, fmt.Errorf("%w: member %q has no RPC address", ErrProtocol, name)
	}
	return m, nil
}

// soloMembership is the one-member list of single-node mode.
type soloMembership struct {
	self    Member
	changed chan struct{}
}

func (s *soloMembership) Start(self Member) error  { s.self = self; return nil }
func (s *soloMembership) Members() []Member        { return []Member{s.self} }
func (s *soloMembership) Changed() <-chan struct{} { return s.changed }
func (s *soloMembership) Close() error             { return nil }
