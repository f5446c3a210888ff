package maildirsvc

import (
	"crypto/tls"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// listener wraps the caller's listener: it counts connections, refuses those
// over max_connections or while draining with a 421 greeting, and hands out
// *trackedConn so that Close can end idle connections.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.s
		reason := ""
		switch {
		case s.draining.Load():
			reason = "421 4.3.2 " + s.cfg.Hostname + " draining, try another node\r\n"
		case s.stats.active.Load() >= int64(s.cfg.MaxConnections):
			reason = "421 4.3.2 " + s.cfg.Hostname + " too many connections, try again later\r\n"
		}
		if reason != "" {
			s.stats.rejected.Add(1)
			go func() {
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				c.Write([]byte(reason))
				c.Close()
			}()
			continue
		}
		tc := &trackedConn{Conn: c, s: s}
		s.addConn(tc)
		return tc, nil
	}
}

// trackedConn is one accepted connection. While the server is closing, reads
// outside a transaction (MAIL to the final reply) fail at once with a timeout,
// so that go-smtp answers "421 4.4.2" and hangs up, while a transaction in
// progress finishes normally.
type trackedConn struct {
	net.Conn
	s     *Server
	inTxn atomic.Bool
	once  sync.Once
}

func (c *trackedConn) Read(p []byte) (int, error) {
	if c.s.closing.Load() && !c.inTxn.Load() {
		return 0, os.ErrDeadlineExceeded
	}
	return c.Conn.Read(p)
}

func (c *trackedConn) SetReadDeadline(t time.Time) error {
	if c.s.closing.Load() && !c.inTxn.Load() {
		t = time.Unix(1, 0)
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *trackedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// kick ends the connection's wait for the next command if it is idle.
func (c *trackedConn) kick() {
	if !c.inTxn.Load() {
		c.Conn.SetReadDeadline(time.Unix(1, 0))
	}
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.s.removeConn(c) })
	return err
}

// connOf finds the trackedConn under a (possibly TLS) connection.
func connOf(c net.Conn) *trackedConn {
	for {
		switch v := c.(type) {
		case *trackedConn:
			return v
		case *tls.Conn:
			c = v.NetConn()
		default:
			return nil
		}
	}
}
