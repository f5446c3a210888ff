package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// maxBody bounds a request body (a users import of some thousand users).
const maxBody = 4 << 20

// Server serves the admin API. Create it with New, start it with Start,
// stop it with Close. Safe for concurrent use.
type Server struct {
	cfg   Config
	log   *slog.Logger
	peers map[string]*Client // by node name, asking with local=1

	mu      sync.Mutex
	servers []*http.Server
	lns     []net.Listener
	sockFI  os.FileInfo // the socket we bound, removed by Close if still there
	wg      sync.WaitGroup
	closed  bool
}

// New checks cfg. It opens nothing: Start does.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.logger(), peers: map[string]*Client{}}
	for _, p := range cfg.Peers {
		c := NewTCPClient(p.Addr, cfg.Token)
		c.local = true
		c.hc.Timeout = cfg.PeerTimeout
		s.peers[p.Name] = c
	}
	return s, nil
}

// Start listens on the unix socket (and on TCP when configured) and serves
// in the background. The socket is created with mode 0600 in a directory
// created 0755; a stale socket left by a dead noded is replaced, a live one
// is an error.
func (s *Server) Start() error {
	ln, err := listenUnix(s.cfg.Socket)
	if err != nil {
		return err
	}
	fi, _ := os.Stat(s.cfg.Socket)
	s.mu.Lock()
	s.sockFI = fi
	s.mu.Unlock()
	s.serve(ln, s.handler(false))
	if s.cfg.TCP != "" {
		tl, err := net.Listen("tcp", s.cfg.TCP)
		if err != nil {
			s.Close()
			return fmt.Errorf("admin: tcp: %w", err)
		}
		s.serve(tl, s.handler(true))
	}
	return nil
}

// TCPAddr is the bound TCP address, "" without one.
func (s *Server) TCPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lns {
		if l.Addr().Network() == "tcp" {
			return l.Addr().String()
		}
	}
	return ""
}

func (s *Server) serve(ln net.Listener, h http.Handler) {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.mu.Lock()
	s.servers = append(s.servers, hs)
	s.lns = append(s.lns, ln)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("admin listener failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// Close stops the listeners, waits up to 5 s for requests in progress and
// removes the socket.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	servers, sockFI := s.servers, s.sockFI
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, hs := range servers {
		if err := hs.Shutdown(ctx); err != nil {
			hs.Close()
		}
	}
	s.wg.Wait()
	for _, c := range s.peers {
		c.hc.CloseIdleConnections()
	}
	if fi, err := os.Stat(s.cfg.Socket); err == nil && sockFI != nil && os.SameFile(fi, sockFI) {
		os.Remove(s.cfg.Socket)
	}
	return nil
}

// listenUnix binds path with mode 0600 from the start: the socket is
// created in a private directory next to path, chmod-ed, then linked
// into place, so no one can connect through a wider mode meanwhile.
func listenUnix(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("admin: socket directory: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("admin: %s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("admin: %s: another noded is listening there", path)
		}
		os.Remove(path)
	}
	priv, err := os.MkdirTemp(dir, ".noded-sock-")
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	defer os.RemoveAll(priv)
	tmp := filepath.Join(priv, "s")
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	// link, not rename: two nodeds starting at once must not silently
	// replace each other's socket.
	if err := os.Chmod(tmp, 0o600); err == nil {
		err = os.Link(tmp, path)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin: %w", err)
	}
	return ln, nil
}

func (s *Server) handler(tcp bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.handleStatus)
	mux.HandleFunc("GET /v1/sessions", s.handleSessions)
	mux.HandleFunc("GET /v1/files", s.handleFiles)
	mux.HandleFunc("GET /v1/locks", s.handleLocks)
	mux.HandleFunc("POST /v1/kill", s.handleKill)
	mux.HandleFunc("POST /v1/drain", func(w http.ResponseWriter, r *http.Request) { s.handleDrain(w, r, true) })
	mux.HandleFunc("POST /v1/undrain", func(w http.ResponseWriter, r *http.Request) { s.handleDrain(w, r, false) })
	mux.HandleFunc("GET /v1/users", s.handleUsers)
	mux.HandleFunc("POST /v1/users/set", s.handleUsersSet)
	mux.HandleFunc("POST /v1/users/del", s.handleUsersDel)
	if !tcp {
		return mux
	}
	want := []byte("Bearer " + s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			s.fail(w, ErrUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func isLocal(r *http.Request) bool { return r.URL.Query().Get("local") == "1" }

func (s *Server) reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// fail is the one place that turns errors into HTTP status and code.
func (s *Server) fail(w http.ResponseWriter, err error) {
	code, status := "internal", http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrUnauthorized):
		code, status = "unauthorized", http.StatusUnauthorized
	case errors.Is(err, ErrBadRequest):
		code, status = "bad_request", http.StatusBadRequest
	case errors.Is(err, ErrNoSuchNode):
		code, status = "no_such_node", http.StatusNotFound
	case errors.Is(err, ErrNoSuchSession):
		code, status = "no_such_session", http.StatusNotFound
	case errors.Is(err, ErrNoSuchUser):
		code, status = "no_such_user", http.StatusNotFound
	case errors.Is(err, ErrUnsupported):
		code, status = "unsupported", http.StatusNotImplemented
	default:
		s.log.Warn("admin request failed", "err", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorReply{Error: err.Error(), Code: code})
}

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if len(b) > maxBody {
		return fmt.Errorf("%w: body larger than %d bytes", ErrBadRequest, maxBody)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return nil
}

// eachPeer calls f for every peer in parallel, each under its own timeout,
// and waits. f reports into its own slot, so no locking is needed.
func (s *Server) eachPeer(ctx context.Context, f func(i int, name string, c *Client)) {
	var wg sync.WaitGroup
	for i, p := range s.cfg.Peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i, p.Name, s.peers[p.Name])
		}()
	}
	wg.Wait()
}

// unreachable lists cluster members this node has no admin peer for.
func (s *Server) unreachable() []string {
	if s.cfg.Members == nil {
		return nil
	}
	var out []string
	for _, m := range s.cfg.Members() {
		if _, ok := s.peers[m]; !ok && m != s.cfg.Node {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// errNotPeer is the error row of a member missing from admin.peers.
const errNotPeer = "cluster member not in admin.peers: its state is unknown here"

func (s *Server) localStatus(ctx context.Context) NodeStatus {
	st := s.cfg.Local.Status(ctx)
	st.Node = s.cfg.Node
	return st
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	out := []NodeStatus{s.localStatus(ctx)}
	if !isLocal(r) {
		rows := make([]NodeStatus, len(s.cfg.Peers))
		s.eachPeer(ctx, func(i int, name string, c *Client) {
			st, err := c.Status(ctx)
			if err == nil && len(st) != 1 {
				err = fmt.Errorf("answered %d rows for itself", len(st))
			}
			if err != nil {
				rows[i] = NodeStatus{Node: name, State: "down", Err: err.Error()}
				return
			}
			rows[i] = st[0]
			rows[i].Node = name
		})
		out = append(out, rows...)
		for _, m := range s.unreachable() {
			out = append(out, NodeStatus{Node: m, State: "unknown", Err: errNotPeer})
		}
	}
	s.reply(w, out)
}

func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	self := NodeSessions{Node: s.cfg.Node}
	ss, err := s.cfg.Local.Sessions(ctx)
	self.Sessions = orEmpty(ss)
	if err != nil {
		self.Err = err.Error()
	}
	for i := range self.Sessions {
		self.Sessions[i].Node = s.cfg.Node
	}
	out := []NodeSessions{self}
	if !isLocal(r) {
		rows := make([]NodeSessions, len(s.cfg.Peers))
		s.eachPeer(ctx, func(i int, name string, c *Client) {
			got, err := c.Sessions(ctx)
			rows[i] = onlyRow(name, got, err, func(n NodeSessions) string { return n.Node },
				func(e string) NodeSessions { return NodeSessions{Node: name, Err: e} })
		})
		out = append(out, rows...)
		for _, m := range s.unreachable() {
			out = append(out, NodeSessions{Node: m, Err: errNotPeer})
		}
	}
	s.reply(w, out)
}

func (s *Server) handleFiles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	self := NodeFiles{Node: s.cfg.Node}
	fs, err := s.cfg.Local.Files(ctx)
	self.Files = orEmpty(fs)
	if err != nil {
		self.Err = err.Error()
	}
	for i := range self.Files {
		self.Files[i].Node = s.cfg.Node
	}
	out := []NodeFiles{self}
	if !isLocal(r) {
		rows := make([]NodeFiles, len(s.cfg.Peers))
		s.eachPeer(ctx, func(i int, name string, c *Client) {
			got, err := c.Files(ctx)
			rows[i] = onlyRow(name, got, err, func(n NodeFiles) string { return n.Node },
				func(e string) NodeFiles { return NodeFiles{Node: name, Err: e} })
		})
		out = append(out, rows...)
		for _, m := range s.unreachable() {
			out = append(out, NodeFiles{Node: m, Err: errNotPeer})
		}
	}
	s.reply(w, out)
}

func (s *Server) handleLocks(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	self := NodeLocks{Node: s.cfg.Node}
	ls, err := s.cfg.Local.Locks(ctx)
	self.Locks = orEmpty(ls)
	if err != nil {
		self.Err = err.Error()
	}
	for i := range self.Locks {
		self.Locks[i].Node = s.cfg.Node
	}
	out := []NodeLocks{self}
	if !isLocal(r) {
		rows := make([]NodeLocks, len(s.cfg.Peers))
		s.eachPeer(ctx, func(i int, name string, c *Client) {
			got, err := c.Locks(ctx)
			rows[i] = onlyRow(name, got, err, func(n NodeLocks) string { return n.Node },
				func(e string) NodeLocks { return NodeLocks{Node: name, Err: e} })
		})
		out = append(out, rows...)
		for _, m := range s.unreachable() {
			out = append(out, NodeLocks{Node: m, Err: errNotPeer})
		}
	}
	s.reply(w, out)
}

// onlyRow checks that a peer asked with local=1 answered exactly its own
// row, and turns a failure into an error row.
func onlyRow[T any](name string, got []T, err error, node func(T) string, errRow func(string) T) T {
	if err == nil && (len(got) != 1 || node(got[0]) != name) {
		err = fmt.Errorf("answered %d rows, not its own one (is admin.peers right?)", len(got))
	}
	if err != nil {
		return errRow(err.Error())
	}
	return got[0]
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) handleKill(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req killRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	self := NodeResult{Node: s.cfg.Node}
	killed, err := s.cfg.Local.Kill(ctx, req.Session)
	self.Killed = killed
	if err != nil {
		self.Err = err.Error()
	}
	out := []NodeResult{self}
	if !isLocal(r) {
		rows := make([]NodeResult, len(s.cfg.Peers))
		s.eachPeer(ctx, func(i int, name string, c *Client) {
			got, err := c.Kill(ctx, req.Session)
			// A peer that does not have the session answers 404.
			if errors.Is(err, ErrNoSuchSession) {
				rows[i] = NodeResult{Node: name}
				return
			}
			rows[i] = onlyRow(name, got, err, func(n NodeResult) string { return n.Node },
				func(e string) NodeResult { return NodeResult{Node: name, Err: e} })
		})
		out = append(out, rows...)
		for _, m := range s.unreachable() {
			out = append(out, NodeResult{Node: m, Err: errNotPeer})
		}
	}
	any, errs := false, false
	for _, o := range out {
		any = any || o.Killed
		errs = errs || o.Err != ""
	}
	if !any && !errs {
		s.fail(w, fmt.Errorf("%w: %#x", ErrNoSuchSession, req.Session))
		return
	}
	s.reply(w, out)
}

func (s *Server) handleDrain(w http.ResponseWriter, r *http.Request, on bool) {
	ctx := r.Context()
	var req nodeRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	if req.Node == "" || req.Node == s.cfg.Node {
		res := NodeResult{Node: s.cfg.Node}
		if err := s.cfg.Local.SetDraining(ctx, on); err != nil {
			s.fail(w, err)
			return
		}
		s.reply(w, res)
		return
	}
	c, ok := s.peers[req.Node]
	if !ok || isLocal(r) {
		s.fail(w, fmt.Errorf("%w: %q is neither this node (%s) nor in admin.peers", ErrNoSuchNode, req.Node, s.cfg.Node))
		return
	}
	res, err := c.Drain(ctx, req.Node, on)
	if err != nil {
		s.fail(w, fmt.Errorf("node %s: %w", req.Node, err))
		return
	}
	s.reply(w, res)
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Users == nil {
		s.fail(w, ErrUnsupported)
		return
	}
	names, err := s.cfg.Users.ListUsers(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	s.reply(w, UserList{Node: s.cfg.Node, Users: orEmpty(names), Replicated: s.cfg.Users.Replicated()})
}

func (s *Server) handleUsersSet(w http.ResponseWriter, r *http.Request) {
	var req usersSetRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	type parsed struct {
		name string
		hash [16]byte
	}
	users := make([]parsed, 0, len(req.Users))
	for _, u := range req.Users {
		h, err := ParseNTHash(u.NTHash)
		if err != nil || !ValidUserName(u.Name) {
			s.fail(w, fmt.Errorf("%w: user %q: bad name or nt_hash", ErrBadRequest, u.Name))
			return
		}
		users = append(users, parsed{u.Name, h})
	}
	s.usersChange(w, r, func(ctx context.Context) error {
		for _, u := range users {
			if err := s.cfg.Users.SetUser(ctx, u.name, u.hash); err != nil {
				return fmt.Errorf("user %s: %w", u.name, err)
			}
		}
		return nil
	}, func(ctx context.Context, c *Client) ([]NodeResult, error) { return c.SetUsers(ctx, req.Users) })
}

func (s *Server) handleUsersDel(w http.ResponseWriter, r *http.Request) {
	var req usersDelRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, err)
		return
	}
	s.usersChange(w, r, func(ctx context.Context) error {
		for _, n := range req.Names {
			if err := s.cfg.Users.DeleteUser(ctx, n); err != nil {
				return fmt.Errorf("user %s: %w", n, err)
			}
		}
		return nil
	}, func(ctx context.Context, c *Client) ([]NodeResult, error) { return c.DeleteUsers(ctx, req.Names) })
}

// usersChange applies a change locally and, unless the table replicates
// itself, on every peer: one result row per node.
func (s *Server) usersChange(w http.ResponseWriter, r *http.Request, local func(context.Context) error,
	remote func(context.Context, *Client) ([]NodeResult, error)) {
	if s.cfg.Users == nil {
		s.fail(w, ErrUnsupported)
		return
	}
	ctx := r.Context()
	err := local(ctx)
	if err != nil && (isLocal(r) || s.cfg.Users.Replicated() || len(s.cfg.Peers) == 0) {
		s.fail(w, err)
		return
	}
	self := NodeResult{Node: s.cfg.Node}
	if err != nil {
		self.Err = err.Error()
	}
	noSuch := make([]bool, len(s.cfg.Peers)+1)
	noSuch[0] = errors.Is(err, ErrNoSuchUser)
	out := []NodeResult{self}
	if !isLocal(r) && !s.cfg.Users.Replicated() {
		rows := make([]NodeResult, len(s.cfg.Peers))
		s.eachPeer(ctx, func(i int, name string, c *Client) {
			got, err := remote(ctx, c)
			noSuch[i+1] = errors.Is(err, ErrNoSuchUser)
			rows[i] = onlyRow(name, got, err, func(n NodeResult) string { return n.Node },
				func(e string) NodeResult { return NodeResult{Node: name, Err: e} })
		})
		out = append(out, rows...)
		for _, m := range s.unreachable() {
			out = append(out, NodeResult{Node: m, Err: errNotPeer})
			noSuch = append(noSuch, false)
		}
	}
	all := true
	for _, n := range noSuch[:len(out)] {
		all = all && n
	}
	if all {
		s.fail(w, err) // every node: no such user
		return
	}
	s.reply(w, out)
}

// ValidUserName reports whether name can be a user: 1..256 bytes, no
// colon, backslash, slash or control character.
func ValidUserName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == ':' || r == '\\' || r == '/'
	})
}
