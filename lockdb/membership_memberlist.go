package lockdb

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// GossipMembership is the Membership backed by hashicorp/memberlist, its
// gossip encrypted and authenticated with a key derived from the cluster key.
type GossipMembership struct {
	bind  string
	peers []string
	key   []byte
	log   *slog.Logger
	fast  bool

	mu      sync.Mutex
	self    Member
	ml      *memberlist.Memberlist
	changed chan struct{}
}

var _ Membership = (*GossipMembership)(nil)

// NewGossipMembership prepares gossip on bind, joining peers. fast selects
// memberlist's local-network timings (tests, loopback benchmarks).
func NewGossipMembership(bind string, peers []string, clusterKey []byte, logger *slog.Logger, fast bool) (*GossipMembership, error) {
	k, err := hkdf.Key(sha256.New, clusterKey, nil, "shoal gossip", 32)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &GossipMembership{bind: bind, peers: peers, key: k, log: logger, fast: fast, changed: make(chan struct{}, 1)}, nil
}

func (g *GossipMembership) signal() {
	select {
	case g.changed <- struct{}{}:
	default:
	}
}

// Start implements Membership.
func (g *GossipMembership) Start(self Member) error {
	host, portS, err := net.SplitHostPort(g.bind)
	if err != nil {
		return fmt.Errorf("%w: cluster.gossip: %v", ErrConfig, err)
	}
	port, err := strconv.Atoi(portS)
	if err != nil {
		return fmt.Errorf("%w: cluster.gossip: port %q", ErrConfig, portS)
	}
	var c *memberlist.Config
	if g.fast {
		c = memberlist.DefaultLocalConfig()
		c.ProbeInterval = 200 * time.Millisecond
		c.ProbeTimeout = 100 * time.Millisecond
		c.GossipInterval = 50 * time.Millisecond
		c.SuspicionMult = 2
	} else {
		c = memberlist.DefaultLANConfig()
	}
	c.Name = self.Name
	c.BindAddr, c.BindPort = host, port
	c.AdvertiseAddr, c.AdvertisePort = "", 0
	if host != "0.0.0.0" && host != "::" && host != "" {
		c.AdvertiseAddr, c.AdvertisePort = host, port
	}
	c.SecretKey = g.key
	c.GossipVerifyIncoming, c.GossipVerifyOutgoing = true, true
	c.Delegate = &gossipDelegate{g: g}
	c.Events = &gossipEvents{g: g}
	c.Logger = log.New(&slogWriter{g.log}, "", 0)
	g.mu.Lock()
	g.self = self
	g.mu.Unlock()
	ml, err := memberlist.Create(c)
	if err != nil {
		return fmt.Errorf("lockdb: gossip on %s: %w", g.bind, err)
	}
	g.mu.Lock()
	g.ml = ml
	g.mu.Unlock()
	if len(g.peers) > 0 {
		if _, err := ml.Join(g.peers); err != nil {
			// Not fatal: we may be the first node up; peers join us later.
			g.log.Info("gossip: no peer reachable yet", "peers", g.peers, "err", err)
		}
	}
	g.signal()
	return nil
}

// Members implements Membership.
func (g *GossipMembership) Members() []Member {
	g.mu.Lock()
	ml, self := g.ml, g.self
	g.mu.Unlock()
	if ml == nil {
		return []Member{self}
	}
	var out []Member
	for _, n := range ml.Members() {
		if n.State != memberlist.StateAlive {
			continue
		}
		if n.Name == self.Name {
			out = append(out, self)
			continue
		}
		m, err := parseMeta(n.Name, n.Meta)
		if err != nil {
			g.log.Warn("gossip: ignoring member", "err", err)
			continue
		}
		out = append(out, m)
	}
	return out
}

// Changed implements Membership.
func (g *GossipMembership) Changed() <-chan struct{} { return g.changed }

// Close implements Membership.
func (g *GossipMembership) Close() error {
	g.mu.Lock()
	ml := g.ml
	g.ml = nil
	g.mu.Unlock()
	if ml == nil {
		return nil
	}
	ml.Leave(200 * time.Millisecond)
	return ml.Shutdown()
}

type gossipDelegate struct{ g *GossipMembership }

func (d *gossipDelegate) NodeMeta(limit int) []byte {
	d.g.mu.Lock()
	defer d.g.mu.Unlock()
	b := encodeMeta(d.g.self)
	if len(b) > limit {
		return nil
	}
	return b
}
func (d *gossipDelegate) NotifyMsg([]byte)                           {}
func (d *gossipDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *gossipDelegate) LocalState(join bool) []byte                { return nil }
func (d *gossipDelegate) MergeRemoteState(buf []byte, join bool)     {}

type gossipEvents struct{ g *GossipMembership }

func (e *gossipEvents) NotifyJoin(*memberlist.Node)   { e.g.signal() }
func (e *gossipEvents) NotifyLeave(*memberlist.Node)  { e.g.signal() }
func (e *gossipEvents) NotifyUpdate(*memberlist.Node) { e.g.signal() }

// slogWriter routes memberlist's log.Logger lines to slog at debug level.
type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	w.l.Debug("memberlist", "msg", string(p))
	return len(p), nil
}

var _ io.Writer = (*slogWriter)(nil)
