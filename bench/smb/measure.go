package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	smb2 "github.com/hirochachacha/go-smb2"
)

// conn is one go-smb2 session with the share mounted.
type conn struct {
	fs    *smb2.Share
	close func()
}

var dialects = map[string]uint16{"": 0, "2.0.2": 0x0202, "2.1": 0x0210, "3.0": 0x0300, "3.0.2": 0x0302, "3.1.1": 0x0311}

func dial(ctx context.Context, s *server, dialect uint16) (*conn, error) {
	c, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", s.addr())
	if err != nil {
		return nil, err
	}
	d := &smb2.Dialer{
		Negotiator: smb2.Negotiator{SpecifiedDialect: dialect},
		Initiator:  &smb2.NTLMInitiator{User: s.user, Password: s.pass},
	}
	sess, err := d.DialContext(ctx, c)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: session setup: %w", s.name, err)
	}
	fs, err := sess.Mount(s.share)
	if err != nil {
		sess.Logoff()
		c.Close()
		return nil, fmt.Errorf("%s: tree connect %s: %w", s.name, s.share, err)
	}
	return &conn{fs: fs, close: func() { fs.Umount(); sess.Logoff(); c.Close() }}, nil
}

// loop runs op until d has passed and returns operations per second.
func loop(d time.Duration, op func(i int) error) (float64, int, error) {
	t0 := time.Now()
	end := t0.Add(d)
	n := 0
	for time.Now().Before(end) {
		if err := op(n); err != nil {
			return 0, n, err
		}
		n++
	}
	return float64(n) / time.Since(t0).Seconds(), n, nil
}

// bench holds what the measurements share.
type bench struct {
	ctx        context.Context
	dialect    uint16
	dur        time.Duration
	files      int
	protection string
	local      string // local scratch directory
	src        string // the put source file
	srcSum     [32]byte
	srcSize    int64
	emptyConf  string
	verified   map[string]bool // servers whose get was checked byte for byte
	putDone    map[string]bool // servers that hold bench-1.bin from a put
}

// smbclient runs one smbclient command on s and returns its wall time.
func (b *bench) smbclient(s *server, command string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Minute)
	defer cancel()
	args := []string{"//" + s.host + "/" + s.share, "-p", strconv.Itoa(s.port), "-s", b.emptyConf,
		"-U", s.user + "%" + s.pass, "-c", command}
	if b.protection != "" && b.protection != "default" {
		args = append(args, "--client-protection="+b.protection)
	}
	t0 := time.Now()
	out, err := exec.CommandContext(ctx, "smbclient", args...).CombinedOutput()
	el := time.Since(t0)
	if err != nil || regexp.MustCompile(`NT_STATUS_\w+`).Match(out) {
		return 0, fmt.Errorf("%s: smbclient -c %q: %v\n%s", s.name, command, err, tail(out, 5))
	}
	return el, nil
}

func (b *bench) put(s *server, run int) (float64, error) {
	// Every put writes a new file: the previous run's is deleted (and its
	// blocks freed and written back) before the clock starts, so that no
	// run pays for truncating 1 GiB and the filesystem is in the same
	// state whichever server ran before.
	if b.putDone[s.name] {
		if _, err := b.smbclient(s, "del bench-1.bin"); err != nil {
			return 0, err
		}
		syscall.Sync()
	}
	el, err := b.smbclient(s, fmt.Sprintf(`put "%s" bench-1.bin`, b.src))
	if err != nil {
		return 0, err
	}
	b.putDone[s.name] = true
	return float64(b.srcSize) / el.Seconds() / 1e6, nil
}

func (b *bench) get(s *server, run int) (float64, error) {
	// The first get of each server is written to disk and compared with
	// what was put; later ones go to /dev/null, so that the client's own
	// disk writeback (1 GiB a run) does not blur the servers' figures.
	dst := os.DevNull
	if !b.verified[s.name] {
		dst = filepath.Join(b.local, "get-"+s.name+".bin")
		defer os.Remove(dst)
	}
	el, err := b.smbclient(s, fmt.Sprintf(`get bench-1.bin "%s"`, dst))
	if err != nil {
		return 0, err
	}
	if !b.verified[s.name] {
		sum, size, err := fileSum(dst)
		if err != nil {
			return 0, err
		}
		if size != b.srcSize || sum != b.srcSum {
			return 0, fmt.Errorf("%s: get returned %d bytes that differ from the %d put", s.name, size, b.srcSize)
		}
		b.verified[s.name] = true
	}
	return float64(b.srcSize) / el.Seconds() / 1e6, nil
}

func (b *bench) open(s *server, run int) (float64, error) {
	c, err := dial(b.ctx, s, b.dialect)
	if err != nil {
		return 0, err
	}
	defer c.close()
	const name = "bench-open.txt"
	if err := c.fs.WriteFile(name, []byte("hello"), 0o644); err != nil {
		return 0, err
	}
	ops, _, err := loop(b.dur, func(int) error {
		f, err := c.fs.Open(name)
		if err != nil {
			return err
		}
		return f.Close()
	})
	return ops, err
}

var block4k = func() []byte {
	b := make([]byte, 4096)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

func (b *bench) create(s *server, run int) (float64, error) {
	c, err := dial(b.ctx, s, b.dialect)
	if err != nil {
		return 0, err
	}
	defer c.close()
	dir := fmt.Sprintf("bench-create-%d", run)
	if err := c.fs.Mkdir(dir, 0o755); err != nil {
		return 0, err
	}
	ops, _, err := loop(b.dur, func(i int) error {
		f, err := c.fs.OpenFile(fmt.Sprintf(`%s\c%06d`, dir, i), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := f.Write(block4k); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
	return ops, err
}

const bigDir = "bench-big"

// populate fills bigDir with b.files empty files once per server and
// reports the rate (informational: a create rate into a growing directory).
func (b *bench) populate(s *server) (float64, error) {
	c, err := dial(b.ctx, s, b.dialect)
	if err != nil {
		return 0, err
	}
	defer c.close()
	if fis, err := c.fs.ReadDir(bigDir); err == nil && len(fis) == b.files {
		return 0, nil
	}
	c.fs.RemoveAll(bigDir)
	if err := c.fs.Mkdir(bigDir, 0o755); err != nil {
		return 0, err
	}
	t0 := time.Now()
	for i := 0; i < b.files; i++ {
		f, err := c.fs.OpenFile(fmt.Sprintf(`%s\file-%06d.dat`, bigDir, i), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return 0, fmt.Errorf("%s: populate: %w", s.name, err)
		}
		f.Close()
	}
	return float64(b.files) / time.Since(t0).Seconds(), nil
}

func (b *bench) list(s *server, run int) (float64, error) {
	c, err := dial(b.ctx, s, b.dialect)
	if err != nil {
		return 0, err
	}
	defer c.close()
	t0 := time.Now()
	fis, err := c.fs.ReadDir(bigDir)
	el := time.Since(t0)
	if err != nil {
		return 0, err
	}
	if len(fis) != b.files {
		return 0, fmt.Errorf("%s: listed %d entries in %s, want %d", s.name, len(fis), bigDir, b.files)
	}
	return float64(len(fis)) / el.Seconds(), nil
}

func (b *bench) bigCreate(s *server, run int) (float64, error) {
	c, err := dial(b.ctx, s, b.dialect)
	if err != nil {
		return 0, err
	}
	defer c.close()
	ops, n, err := loop(b.dur, func(i int) error {
		f, err := c.fs.OpenFile(fmt.Sprintf(`%s\new-%d-%06d.dat`, bigDir, run, i), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		return f.Close()
	})
	// Back to exactly b.files entries for the next list run (not timed).
	for i := 0; i < n; i++ {
		if rerr := c.fs.Remove(fmt.Sprintf(`%s\new-%d-%06d.dat`, bigDir, run, i)); rerr != nil && err == nil {
			err = rerr
		}
	}
	return ops, err
}

// makeSource writes size bytes of pseudo-random data to path (reused when
// it already has that size) and returns its SHA-256.
func makeSource(path string, size int64) ([32]byte, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() == size {
		sum, _, err := fileSum(path)
		return sum, err
	}
	f, err := os.Create(path)
	if err != nil {
		return [32]byte{}, err
	}
	h := sha256.New()
	r := io.LimitReader(newFastRand(), size)
	if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
		f.Close()
		return [32]byte{}, err
	}
	if err := f.Close(); err != nil {
		return [32]byte{}, err
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func fileSum(path string) ([32]byte, int64, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return sum, 0, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, n, nil
}

var errStopped = errors.New("interrupted")
