package smbnode

import (
	"sort"
	"time"

	"shoal/lockdb/table"
	"shoal/smbnode/auth"
	"shoal/smbnode/smbcrypto"
)

// This file is the read-only view the admin API (nodectl) and the metrics
// take of a running Server, plus KillSession. Every accessor copies what it
// reports under the lock that guards it and never holds two locks at once,
// so it cannot deadlock with the request path (whose order is conn.mu, then
// session.mu, then open.mu).

// SessionInfo describes one authenticated (or authenticating) session.
type SessionInfo struct {
	ID         uint64
	User       string // DOMAIN\user as the client logged on; "" while in progress
	Guest      bool
	Client     string // the client's address, host:port
	Dialect    string // "3.1.1", "2.1", ...
	Signing    string // "required", "enabled" (signs when the client asks), "-" before keys exist
	Encryption string // cipher name when the session encrypts, "-" otherwise
	Opens      int
	State      string // "valid", "in progress" or "expired"
	Connected  time.Time
	Idle       time.Duration
}

// OpenInfo describes one open handle of this node's clients.
type OpenInfo struct {
	ID          uint64
	Share       string
	Path        string // as the client named it
	User        string
	Session     uint64
	Client      string
	Access      uint32 // the granted access mask
	ShareAccess uint32 // FILE_SHARE_READ|WRITE|DELETE bits
	Oplock      uint8  // table.OplockNone..OplockBatch, or table.OplockLease
	LeaseState  uint32 // table.LeaseRead|LeaseHandle|LeaseWrite when Oplock is a lease
	Durable     bool
	Dir         bool
	Opened      time.Time
}

// LockInfo is one byte-range lock held by a client of this node.
type LockInfo struct {
	Share     string
	Inode     uint64
	Path      string // of the open holding the lock, "" if it is unknown here
	Offset    uint64
	Length    uint64
	Exclusive bool
	Session   uint64
	User      string
	OpenID    uint64
}

// LockLister is implemented by a Locker that can list the byte-range locks
// owned by this node's clients. The node-local table implements it; a
// wrapper around a Locker should forward it. It may be called concurrently
// with every other Locker method.
type LockLister interface {
	OwnedLocks() []table.Record
}

// Sessions lists the sessions of every connection, sorted by id. Safe for
// concurrent use; it does not block on client I/O.
func (s *Server) Sessions() []SessionInfo {
	now := time.Now()
	var out []SessionInfo
	for _, c := range s.connList() {
		c.mu.Lock()
		dialect, cipher, negotiated := c.dialect, c.cipher, c.negotiated
		sessions := make([]*session, 0, len(c.sessions))
		for _, ss := range c.sessions {
			sessions = append(sessions, ss)
		}
		perSession := map[*session]int{}
		for _, o := range c.opens {
			perSession[o.sess]++
		}
		c.mu.Unlock()
		client := c.nc.RemoteAddr().String()
		for _, ss := range sessions {
			ss.mu.Lock()
			si := SessionInfo{
				ID:        ss.id,
				User:      ss.user,
				Guest:     ss.guest,
				Client:    client,
				Opens:     perSession[ss],
				Connected: ss.created,
			}
			if ss.domain != "" && ss.user != "" {
				si.User = ss.domain + `\` + ss.user
			}
			switch ss.state {
			case sessionValid:
				si.State = "valid"
			case sessionInProgress:
				si.State = "in progress"
			default:
				si.State = "expired"
			}
			hasKeys := ss.keys != nil
			si.Signing = "-"
			if hasKeys && ss.signingRequired {
				si.Signing = "required"
			} else if hasKeys {
				si.Signing = "enabled"
			}
			si.Encryption = "-"
			if ss.encrypt {
				si.Encryption = cipherName(cipher)
			}
			ss.mu.Unlock()
			si.Dialect = "-"
			if negotiated {
				si.Dialect = dialectName(dialect)
			}
			si.Idle = now.Sub(time.Unix(0, ss.lastUsed.Load())).Truncate(time.Second)
			out = append(out, si)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Opens lists the open files, directories and pipes of this node's
// clients, sorted by share and path. Safe for concurrent use.
func (s *Server) Opens() []OpenInfo {
	var opens []*open
	s.opens.Range(func(_, v any) bool {
		opens = append(opens, v.(*open))
		return true
	})
	out := make([]OpenInfo, 0, len(opens))
	for _, o := range opens {
		oi := OpenInfo{
			ID:          o.id,
			Share:       o.tree.share.cfg.Name,
			Session:     o.sess.id,
			Client:      o.conn.nc.RemoteAddr().String(),
			Access:      o.access,
			ShareAccess: o.shareAccess,
			Dir:         o.isDir,
			Opened:      o.created,
		}
		oi.User = o.sess.userName()
		o.mu.Lock()
		closed := o.closed
		oi.Path = o.name
		oi.Oplock = o.oplock
		oi.LeaseState = o.leaseState
		o.mu.Unlock()
		if closed {
			continue
		}
		if oi.Path == "" {
			oi.Path = `\`
		}
		out = append(out, oi)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Share != out[j].Share {
			return out[i].Share < out[j].Share
		}
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Locks lists the byte-range locks held by this node's clients, as the
// Locker records them; nil when the Locker cannot list them (it does not
// implement LockLister). Safe for concurrent use.
func (s *Server) Locks() []LockInfo {
	ll, ok := s.locker.(LockLister)
	if !ok {
		return nil
	}
	return s.DescribeLocks(ll.OwnedLocks())
}

// DescribeLocks turns lock records (e.g. lockdb's listing of the locks this
// node owns) into LockInfos, adding path, session and user from this
// node's opens. Records that are not locks of this node are skipped.
func (s *Server) DescribeLocks(recs []table.Record) []LockInfo {
	out := make([]LockInfo, 0, len(recs))
	for _, r := range recs {
		if r.Kind != table.RecordLock || r.Lock.Open.Node != s.cfg.Node {
			continue
		}
		li := LockInfo{
			Share: r.Key.Share, Inode: r.Key.Inode,
			Offset: r.Lock.Offset, Length: r.Lock.Length, Exclusive: r.Lock.Exclusive,
			OpenID: r.Lock.Open.ID,
		}
		if v, ok := s.opens.Load(r.Lock.Open.ID); ok {
			o := v.(*open)
			li.Session = o.sess.id
			li.User = o.sess.userName()
			li.Path, _ = o.pathName()
		}
		out = append(out, li)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Share != b.Share {
			return a.Share < b.Share
		}
		if a.Inode != b.Inode {
			return a.Inode < b.Inode
		}
		return a.Offset < b.Offset
	})
	return out
}

// KillSession disconnects the connection carrying session id. Closing the
// connection tears down every session, tree and open on it, which releases
// their share modes, leases and byte-range locks in the Locker (cluster-wide
// with lockdb). It reports whether the session was found; it does not wait
// for the teardown to finish.
func (s *Server) KillSession(id uint64) bool {
	for _, c := range s.connList() {
		c.mu.Lock()
		_, ok := c.sessions[id]
		c.mu.Unlock()
		if ok {
			c.log.Info("session killed by the administrator", "session", id)
			c.close()
			return true
		}
	}
	return false
}

// Draining reports whether SetDraining(true) is in effect.
func (s *Server) Draining() bool { return s.draining.Load() }

// Connections is the number of client connections open now.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Started is when New created the server.
func (s *Server) Started() time.Time { return s.started }

// Node is the node name from Config.Node.
func (s *Server) Node() string { return s.cfg.Node }

// UserStore is the Config.Users the server authenticates against.
func (s *Server) UserStore() auth.Users { return s.cfg.Users }

// NewLocalLocker returns the node-local Locker that New uses when
// Config.Locker is nil (every key homed on this node). It implements
// LockLister. Use it to wrap the default Locker, e.g. to count operations.
func NewLocalLocker(node string) Locker { return newLocalLocker(node) }

// OwnedLocks lists the byte-range locks of every key in the local table.
func (l *localLocker) OwnedLocks() []table.Record {
	var out []table.Record
	for _, k := range l.t.Keys() {
		for _, r := range l.t.Records(k) {
			if r.Kind == table.RecordLock {
				out = append(out, r)
			}
		}
	}
	return out
}

// connList copies the set of connections under s.mu.
func (s *Server) connList() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

func (ss *session) userName() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.domain != "" && ss.user != "" {
		return ss.domain + `\` + ss.user
	}
	return ss.user
}

func (o *open) pathName() (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.name, o.closed
}

func cipherName(c uint16) string {
	switch c {
	case smbcrypto.CipherAES128CCM:
		return "AES-128-CCM"
	case smbcrypto.CipherAES128GCM:
		return "AES-128-GCM"
	case smbcrypto.CipherAES256CCM:
		return "AES-256-CCM"
	case smbcrypto.CipherAES256GCM:
		return "AES-256-GCM"
	}
	return "-"
}

// Locker is the Locker the server consults (Config.Locker, or the
// node-local table).
func (s *Server) Locker() Locker { return s.locker }
