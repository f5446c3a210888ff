package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is one SMB server under measurement.
type server struct {
	name  string // "samba", "shoal", "samba-b"
	host  string
	port  int
	share string
	user  string
	pass  string
	stop  func() error
}

func (s *server) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// startSamba runs the anchors' samba/start.sh with its own work directory
// under dir on a free port; stop runs stop.sh for that work directory.
func startSamba(ctx context.Context, name, anchors, dir string) (*server, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the reference Samba needs root (start.sh creates a Unix user and runs smbd)")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	work := filepath.Join(dir, name)
	script := filepath.Join(anchors, "samba", "start.sh")
	cmd := exec.CommandContext(ctx, script, "-w", work, "-p", strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", script, err, out)
	}
	// "smbd pid N listening on ADDR:PORT, share 'S' = PATH, user U / P"
	m := regexp.MustCompile(`listening on ([0-9.]+):(\d+), share '([^']+)' = .*, user (\S+) / (\S+)`).FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("%s: unexpected output:\n%s", script, out)
	}
	p, _ := strconv.Atoi(string(m[2]))
	s := &server{name: name, host: string(m[1]), port: p, share: string(m[3]), user: string(m[4]), pass: string(m[5])}
	s.stop = func() error {
		out, err := exec.Command(filepath.Join(anchors, "samba", "stop.sh"), work).CombinedOutput()
		if err != nil {
			return fmt.Errorf("stop.sh %s: %v: %s", work, err, out)
		}
		return nil
	}
	return s, nil
}

// buildNoded builds ./cmd/noded (without -race) into dir.
func buildNoded(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "noded")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/noded")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/noded: %v\n%s", err, out)
	}
	return bin, nil
}

// startShoal runs `noded -dev` on free ports with a share in dir/shoal and
// its output in dir/shoal.log; stop sends SIGTERM to its PID (SIGKILL after
// 10 s).
func startShoal(ctx context.Context, bin, dir string) (*server, error) {
	smbPort, err := freePort()
	if err != nil {
		return nil, err
	}
	lmtpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "shoal")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "shoal.log"))
	if err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	s := &server{name: "shoal", host: "127.0.0.1", port: smbPort, share: "data", user: "bench", pass: "Pw-" + hex.EncodeToString(b)}
	cmd := exec.Command(bin, "-dev", "-data", data, "-smb-addr", s.addr(),
		"-lmtp-addr", net.JoinHostPort("127.0.0.1", strconv.Itoa(lmtpPort)), "-user", s.user+":"+s.pass)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	s.stop = func() error {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.Exited() && ee.ExitCode() != 0 {
				return fmt.Errorf("noded: %v (log %s)", err, logf.Name())
			}
			return nil
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("noded %d did not stop on SIGTERM; killed", cmd.Process.Pid)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-done:
			log, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("noded exited during startup: %v\n%s", err, tail(log, 20))
		default:
		}
		if c, err := net.DialTimeout("tcp", s.addr(), 250*time.Millisecond); err == nil {
			c.Close()
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("noded did not listen on %s within 30 s (log %s)", s.addr(), logf.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// repoRoot walks up from the working directory to Shoal's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module shoal\s*$`).Match(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of module shoal above the working directory")
		}
		dir = parent
	}
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
