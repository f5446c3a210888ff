// Command noded is one Shoal node: the SMB2/3 server, the LMTP delivery
// front end and the lock database member, all in one process.
//
//	noded -dev [-data DIR] [-smb-addr ADDR] [-lmtp-addr ADDR] [-user NAME:PASSWORD]
//	noded -config shoal.toml
//	noded deliver -config shoal.toml RECIPIENT...
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"

	"shoal/lockdb"
	"shoal/maildirsvc"
	"shoal/smbnode"
	"shoal/smbnode/auth"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usageError is a bad command line: one line, exit status 2.
type usageError string

func (e usageError) Error() string { return string(e) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "deliver" {
		return runDeliver(args[1:], stdin, stderr)
	}
	fs := flag.NewFlagSet("noded", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "run one node with embedded defaults")
	configPath := fs.String("config", "", "path of shoal.toml")
	dataDir := fs.String("data", "./shoal-data", "with -dev: directory shared as \"data\" (mail under DIR/mail)")
	smbAddr := fs.String("smb-addr", "127.0.0.1:4445", "with -dev: SMB listen address")
	lmtpAddr := fs.String("lmtp-addr", "127.0.0.1:2424", "with -dev: LMTP listen address")
	user := fs.String("user", "", "with -dev: NAME:PASSWORD of the one user (default: user shoal with a generated password)")
	nodeName := fs.String("node", "", "with -dev: node name (default: the host name)")
	signing := fs.String("signing", "required", "with -dev: SMB signing, required or enabled")
	encryption := fs.String("encryption", "off", "with -dev: SMB3 encryption, off, desired or required")
	tortureHooks := fs.Bool("torture-hooks", false, "with -dev: answer Samba's smbtorture-only FSCTLs (tests only)")
	verbose := fs.Bool("v", false, "log debug messages")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until shutdown (diagnostics)")
	adminFl := addAdminFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "noded: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var n *node
	var err error
	switch {
	case *dev && *configPath != "":
		fmt.Fprintln(stderr, "noded: -dev and -config exclude each other")
		return 2
	case *dev:
		n, err = devNode(devOptions{data: *dataDir, smbAddr: *smbAddr, lmtpAddr: *lmtpAddr, user: *user, node: *nodeName, signing: *signing, encryption: *encryption, tortureHooks: *tortureHooks}, logger, stdout)
		if err == nil {
			err = n.startDevAdmin(adminFl, nil)
		}
	case *configPath != "":
		n, err = configNode(*configPath, logger)
	default:
		fmt.Fprintln(stderr, "noded: give -dev or -config FILE (see -h)")
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "noded: %v\n", err)
		var ce *configError
		var ue usageError
		if errors.As(err, &ce) || errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "noded: -cpuprofile: %v\n", err)
			return 2
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = n.serve(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "noded: %v\n", err)
		return 1
	}
	return 0
}

// node is everything one noded runs.
type node struct {
	log     *slog.Logger
	smb     *smbnode.Server
	smbLn   net.Listener
	lmtp    *maildirsvc.Server
	lmtpLn  net.Listener
	closers []func() error
}

type devOptions struct {
	data, smbAddr, lmtpAddr, user, node string
	signing, encryption                 string
	tortureHooks                        bool
}

// devNode builds the single node of `noded -dev`: share "data" on the data
// directory, mail under DIR/mail with auto-created mailboxes, one user.
func devNode(o devOptions, logger *slog.Logger, stdout io.Writer) (*node, error) {
	data, err := filepath.Abs(o.data)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(data, "mail"), 0o755); err != nil {
		return nil, err
	}
	name, pass, ok := strings.Cut(o.user, ":")
	switch {
	case o.user == "":
		name, pass = "shoal", randomPassword()
		fmt.Fprintf(stdout, "noded: user %q, password %s\n", name, pass)
	case !ok || name == "" || pass == "":
		return nil, usageError("-user: want NAME:PASSWORD")
	}
	users := newStaticUsers()
	users.set(name, pass)
	nodeName := o.node
	if nodeName == "" {
		nodeName, _ = os.Hostname()
		if nodeName == "" {
			nodeName = "dev"
		}
	}
	smbCfg := smbnode.DefaultConfig()
	smbCfg.Listen = o.smbAddr
	smbCfg.Signing = o.signing
	smbCfg.Encryption = o.encryption
	smbCfg.TortureHooks = o.tortureHooks
	smbCfg.Shares = []smbnode.ShareConfig{{Name: "data", Path: data, Comment: "Shoal dev share"}}
	smbCfg.Users = users
	smbCfg.Node = nodeName
	smbCfg.Logger = logger.With("svc", "smb")
	lmtpCfg := maildirsvc.DefaultConfig()
	lmtpCfg.Listen = o.lmtpAddr
	lmtpCfg.MailRoot = filepath.Join(data, "mail")
	lmtpCfg.AutoCreate = true
	lmtpCfg.Node = nodeName
	lmtpCfg.Logger = logger.With("svc", "lmtp")
	return newNode(smbCfg, &lmtpCfg, logger)
}

// configNode builds a node from shoal.toml.
func configNode(path string, logger *slog.Logger) (*node, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, &configError{path, fmt.Sprintf("state_dir: %v", err)}
	}
	cfg.SMB.Node = cfg.Node
	cfg.SMB.Logger = logger.With("svc", "smb")
	var cluster *lockdb.Cluster
	owner := &smbnode.Owner{}
	if cfg.clusterSet {
		// The lock database decides every grant and holds the replicated
		// user table.
		cfg.ClusterConfig.Logger = logger.With("svc", "lockdb")
		cluster, err = lockdb.New(cfg.ClusterConfig, owner)
		if err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		cfg.SMB.Locker = &smbnode.ClusterLocker{C: cluster}
		cfg.SMB.NotifyBus = cluster
		cfg.SMB.Users = foldUsers{cluster.Users()}
	} else {
		users, err := loadUsersFile(filepath.Join(cfg.StateDir, "users"))
		if err != nil {
			return nil, err
		}
		cfg.SMB.Users = users
	}
	var lmtpCfg *maildirsvc.Config
	if cfg.lmtpSet {
		cfg.LMTP.Logger = logger.With("svc", "lmtp")
		lmtpCfg = &cfg.LMTP
	}
	n, err := newNode(cfg.SMB, lmtpCfg, logger.With("node", cfg.Node))
	if err != nil {
		if cluster != nil {
			cluster.Close()
		}
		return nil, err
	}
	if cluster != nil {
		owner.S.Store(n.smb)
		if err := cluster.Start(context.Background()); err != nil {
			n.smbLn.Close()
			n.smb.Close()
			cluster.Close()
			return nil, fmt.Errorf("cluster: %w", err)
		}
		n.closers = append(n.closers, cluster.Close)
	}
	return n, n.startConfigAdmin(path, cfg, cluster)
}

func newNode(smbCfg smbnode.Config, lmtpCfg *maildirsvc.Config, logger *slog.Logger) (*node, error) {
	n := &node{log: logger}
	smbCfg.Locker = meterLocker(smbCfg.Locker, smbCfg.Node)
	srv, err := smbnode.New(smbCfg)
	if err != nil {
		return nil, err
	}
	n.smb = srv
	n.smbLn, err = net.Listen("tcp", smbCfg.Listen)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("smb listen: %w", err)
	}
	if lmtpCfg != nil {
		n.lmtp, err = maildirsvc.NewServer(*lmtpCfg)
		if err == nil {
			n.lmtpLn, err = net.Listen("tcp", lmtpCfg.Listen)
		}
		if err != nil {
			n.smbLn.Close()
			srv.Close()
			return nil, fmt.Errorf("lmtp: %w", err)
		}
	}
	return n, nil
}

// serve runs until ctx ends (SIGINT/SIGTERM), then shuts down cleanly.
func (n *node) serve(ctx context.Context) error {
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := n.smb.Serve(n.smbLn); err != nil {
			errc <- fmt.Errorf("smb: %w", err)
		}
	}()
	n.log.Info("SMB listening", "addr", n.smbLn.Addr().String())
	if n.lmtp != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.lmtp.Serve(n.lmtpLn); err != nil {
				errc <- fmt.Errorf("lmtp: %w", err)
			}
		}()
		n.log.Info("LMTP listening", "addr", n.lmtpLn.Addr().String())
	}
	var err error
	select {
	case <-ctx.Done():
		n.log.Info("shutting down")
	case err = <-errc:
	}
	n.smb.Close()
	if n.lmtp != nil {
		n.lmtp.Close()
	}
	for _, c := range n.closers {
		c()
	}
	wg.Wait()
	return err
}

func randomPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// staticUsers is a user table held in memory (dev mode).
type staticUsers struct {
	mu sync.RWMutex
	m  map[string][16]byte
}

func newStaticUsers() *staticUsers { return &staticUsers{m: map[string][16]byte{}} }

func (u *staticUsers) set(name, pass string) {
	u.mu.Lock()
	u.m[strings.ToLower(name)] = auth.NTHash(pass)
	u.mu.Unlock()
}

func (u *staticUsers) NTHash(name string) ([16]byte, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	h, ok := u.m[strings.ToLower(name)]
	return h, ok
}

// runDeliver is `noded deliver -config FILE RECIPIENT...`.
func runDeliver(args []string, stdin io.Reader, stderr io.Writer) int {
	fs := flag.NewFlagSet("noded deliver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "path of shoal.toml")
	sender := fs.String("f", "", "envelope sender (Return-Path)")
	if err := fs.Parse(args); err != nil {
		return 64 // EX_USAGE
	}
	if *configPath == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: noded deliver -config shoal.toml [-f SENDER] RECIPIENT...")
		return 64
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "noded: %v\n", err)
		return 78 // EX_CONFIG
	}
	if !cfg.lmtpSet {
		fmt.Fprintf(stderr, "noded: %s: lmtp: section missing (mail_root is needed to deliver)\n", *configPath)
		return 78
	}
	return maildirsvc.RunDeliver(context.Background(), cfg.LMTP, *sender, fs.Args(), stdin, stderr)
}

// foldUsers looks user names up in lower case, as the replicated table
// stores them: Windows user names are case-insensitive.
type foldUsers struct{ u auth.Users }

func (f foldUsers) NTHash(name string) ([16]byte, bool) { return f.u.NTHash(strings.ToLower(name)) }
