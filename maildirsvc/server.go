package maildirsvc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// Server is the LMTP front end (RFC 2033): one reply per recipient after
// the final dot, PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES, SIZE, optional
// STARTTLS. Its methods may be called from any goroutine.
type Server struct {
	cfg   Config
	log   *slog.Logger
	eng   *engine
	smtp  *smtp.Server
	stats counters

	draining atomic.Bool
	closing  atomic.Bool

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

// NewServer validates cfg and returns a server ready for Serve. It checks
// that the mail root exists and loads the TLS certificate.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkMailRoot(cfg.MailRoot); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.logger(), conns: make(map[*trackedConn]struct{})}
	s.eng = newEngine(&s.cfg)
	ss := smtp.NewServer(backend{s})
	ss.LMTP = true
	ss.Network = "tcp" // LMTP mode defaults to "unix"; only matters for ListenAndServe
	ss.Domain = cfg.Hostname
	ss.MaxMessageBytes = cfg.MaxMessageBytes
	ss.MaxRecipients = cfg.MaxRecipients
	ss.MaxLineLength = cfg.MaxLineLength
	ss.ReadTimeout = time.Duration(cfg.ReadTimeout)
	ss.WriteTimeout = time.Duration(cfg.WriteTimeout)
	ss.ErrorLog = slogPrinter{s.log}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("lmtp.tls_cert: %v", err)
		}
		ss.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.smtp = ss
	return s, nil
}

func checkMailRoot(root string) error {
	isDir, err := statDir(root)
	if err != nil {
		return fmt.Errorf("lmtp.mail_root: %v", err)
	}
	if !isDir {
		return fmt.Errorf("lmtp.mail_root: %s is not a directory", root)
	}
	return nil
}

// Serve answers LMTP on l until Close; it then returns nil. It may be called
// for several listeners at once.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		l.Close()
		return ErrClosed
	}
	s.log.Info("lmtp listening", "addr", l.Addr().String(), "mail_root", s.cfg.MailRoot, "node", s.cfg.Node)
	err := s.smtp.Serve(&listener{Listener: l, s: s})
	if s.closing.Load() {
		return nil
	}
	return err
}

// Close stops accepting connections, ends idle ones (421 4.4.2) and waits up
// to shutdown_timeout for deliveries in progress to finish and be answered;
// connections still open after that are cut. Safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.closing.Store(true)
	for c := range s.conns {
		c.kick()
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.ShutdownTimeout))
	defer cancel()
	err := s.smtp.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		s.log.Warn("lmtp shutdown timeout: closing connections with deliveries in progress")
		s.smtp.Close()
		return nil
	}
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// SetDraining(true) refuses new connections with 421 4.3.2 (nodectl drain)
// while open ones carry on; SetDraining(false) accepts again.
func (s *Server) SetDraining(on bool) {
	s.draining.Store(on)
	s.log.Info("lmtp draining", "on", on)
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := s.stats.snapshot()
	st.Draining = s.draining.Load()
	return st
}

func (s *Server) addConn(c *trackedConn) {
	s.stats.conns.Add(1)
	s.stats.active.Add(1)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	closing := s.closed
	s.mu.Unlock()
	if closing {
		c.kick()
	}
}

func (s *Server) removeConn(c *trackedConn) {
	s.stats.active.Add(-1)
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// backend creates one session per LHLO.
type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	tc := connOf(c.Conn())
	return &session{
		s:    b.s,
		conn: tc,
		log:  b.s.log.With("node", b.s.cfg.Node, "remote", c.Conn().RemoteAddr().String()),
	}, nil
}

// slogPrinter routes go-smtp's internal error log to slog.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) { p.l.Warn(fmt.Sprintf(format, v...)) }
func (p slogPrinter) Println(v ...any)               { p.l.Warn(fmt.Sprint(v...)) }

var _ smtp.Logger = slogPrinter{}
