package smbnode

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"shoal/smbnode/auth"
	"shoal/smbnode/vfs"
)

// Server is one node's SMB2/3 server. Create it with New, run it with
// Serve (possibly on several listeners), stop it with Close. All methods
// are safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	guid    [16]byte
	started time.Time
	authCfg auth.Config
	// negToken is the SPNEGO negTokenInit sent in every NEGOTIATE response.
	negToken []byte
	shares   map[string]*share // by lower-case name; includes IPC$
	locker   Locker
	// inline: which quick request chains run on their connection's
	// reader (inline.go).
	inline inlineMode

	nextSessionID atomic.Uint64
	nextOpenID    atomic.Uint64
	// opens finds a node-local open by id, for breaks and admin listings.
	opens  sync.Map // uint64 -> *open
	notify notifyHub

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closed    bool
	draining  atomic.Bool
	wg        sync.WaitGroup
}

// share is one tree-connectable share: a disk share on the filesystem or
// the IPC$ pipe share.
type share struct {
	cfg ShareConfig
	fs  *vfs.Share // nil for IPC$
	ipc bool
}

// New checks cfg and opens every share's root directory.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.logger(),
		started:   time.Now(),
		shares:    map[string]*share{},
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
	}
	if _, err := rand.Read(s.guid[:]); err != nil {
		return nil, err
	}
	s.authCfg = auth.Config{
		NetBIOSName:   strings.ToUpper(cfg.ServerName),
		NetBIOSDomain: strings.ToUpper(cfg.Workgroup),
		DNSName:       strings.ToLower(cfg.ServerName),
		Users:         cfg.Users,
		AllowGuest:    cfg.AllowGuest,
		Logger:        s.log,
	}
	if err := s.authCfg.Validate(); err != nil {
		return nil, fmt.Errorf("smb: %w", err)
	}
	s.negToken = auth.NegTokenInit(s.authCfg)
	for _, sc := range cfg.Shares {
		fs, err := vfs.Open(sc.Name, sc.Path, vfs.Options{ReadOnly: sc.ReadOnly, Logger: s.log})
		if err != nil {
			s.closeShares()
			return nil, fmt.Errorf("share %q: %w", sc.Name, err)
		}
		s.shares[strings.ToLower(sc.Name)] = &share{cfg: sc, fs: fs}
	}
	s.shares["ipc$"] = &share{cfg: ShareConfig{Name: "IPC$", Comment: "IPC Service"}, ipc: true}
	s.locker = cfg.Locker
	if s.locker == nil {
		s.locker = newLocalLocker(cfg.Node)
	}
	s.inline = inlineModeFor(s.locker)
	s.locker.SetBreaker(s)
	s.startNotifyRelay()
	s.startPreviousSessionRelay()
	var r [2]byte
	rand.Read(r[:])
	// Session ids start at a random high half so ids from before a restart are not reused.
	s.nextSessionID.Store(uint64(r[0])<<40 | uint64(r[1])<<32)
	// Open ids likewise, so a restarted node never reuses an id that a
	// lock database home may still hold for its previous run.
	var o [3]byte
	rand.Read(o[:])
	s.nextOpenID.Store(uint64(o[0])<<48 | uint64(o[1])<<40 | uint64(o[2])<<32)
	return s, nil
}

func (s *Server) closeShares() {
	for _, sh := range s.shares {
		if sh.fs != nil {
			sh.fs.Close()
		}
	}
}

// Serve accepts connections on l until Close. It returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("smb: server closed")
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if s.draining.Load() {
			nc.Close()
			continue
		}
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// SetDraining makes the server refuse new connections (true) while the
// existing ones continue, or accept them again (false).
func (s *Server) SetDraining(on bool) { s.draining.Store(on) }

// Close stops every listener, disconnects every client and waits for their
// goroutines to finish.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.releaseDurables()
	s.closeShares()
	return nil
}

// DropAll disconnects every client (used when the node is fenced).
func (s *Server) DropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.close()
	}
}

func (s *Server) share(name string) *share {
	return s.shares[strings.ToLower(name)]
}
