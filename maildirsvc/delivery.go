package maildirsvc

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// deliverer writes messages into Maildir folders, durably and without locks.
// Safe for concurrent use by any number of goroutines and processes.
type deliverer struct {
	node     string // node name made safe for a file name
	pid      int
	nonce    string // random per process: two processes never share a prefix
	seq      atomic.Uint64
	fileMode os.FileMode
}

func newDeliverer(node string, mode os.FileMode) *deliverer {
	b := make([]byte, 4)
	rand.Read(b)
	return &deliverer{node: safeNode(node), pid: os.Getpid(), nonce: hex.EncodeToString(b), fileMode: mode}
}

// safeNode escapes what Maildir forbids in the host part of a unique name:
// "/" and ":" become \057 and \072 (the convention of the Maildir spec); ","
// (the start of Maildir++ tags), "\\" and control characters are escaped the
// same way.
func safeNode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '/' || c == ':' || c == ',' || c == '\\' || c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "\\%03o", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// uniqueName returns sec.M<usec>P<pid>Q<seq>R<nonce>.<node>: unique across
// nodes (node name), processes (pid + random nonce) and deliveries (seq).
func (d *deliverer) uniqueName() string {
	now := time.Now()
	b := make([]byte, 0, 64+len(d.node))
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, ".M"...)
	b = strconv.AppendInt(b, int64(now.Nanosecond()/1000), 10)
	b = append(b, 'P')
	b = strconv.AppendInt(b, int64(d.pid), 10)
	b = append(b, 'Q')
	b = strconv.AppendUint(b, d.seq.Add(1), 10)
	b = append(b, 'R')
	b = append(b, d.nonce...)
	b = append(b, '.')
	b = append(b, d.node...)
	return string(b)
}

// deliver stores hdr followed by body (size bytes in all, LF line endings)
// in folder and returns the path in new/. It returns only after the file and
// new/ have been flushed. On error nothing of this message is left in tmp/ or
// new/, and the error wraps ErrNoSpace or ErrIO.
func (d *deliverer) deliver(folder string, hdr []byte, body io.Reader, size int64) (string, error) {
	for attempt := 0; ; attempt++ {
		name := d.uniqueName()
		p, err := d.deliverOnce(folder, name, hdr, body, size)
		if errors.Is(err, fs.ErrExist) && attempt < 3 {
			// a name collision (clock stepped back on a node that reused
			// a pid): try another name; the body must be re-readable
			if s, ok := body.(io.Seeker); ok {
				if _, serr := s.Seek(0, io.SeekStart); serr == nil {
					continue
				}
			}
		}
		if err != nil {
			return "", ioError(err)
		}
		return p, nil
	}
}

func (d *deliverer) deliverOnce(folder, name string, hdr []byte, body io.Reader, size int64) (string, error) {
	tmp := filepath.Join(folder, "tmp", name)
	final := filepath.Join(folder, "new", name+",S="+strconv.FormatInt(size, 10))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, d.fileMode)
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	n, err := f.Write(hdr)
	if err != nil {
		return fail(err)
	}
	m, err := io.Copy(f, body)
	if err != nil {
		return fail(err)
	}
	if int64(n)+m != size {
		return fail(fmt.Errorf("wrote %d bytes, expected %d", int64(n)+m, size))
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	// link, never rename: rename(2) would silently replace an existing name
	if err := os.Link(tmp, final); err != nil {
		os.Remove(tmp)
		return "", err
	}
	// The message is complete in new/ now. A failed unlink leaves a second
	// name in tmp/ that Maildir readers ignore (and clean after 36 h).
	os.Remove(tmp)
	if err := syncDir(filepath.Dir(final)); err != nil {
		// not durable: take it back so that the retry does not duplicate it
		os.Remove(final)
		return "", err
	}
	return final, nil
}

// syncDir flushes a directory's entries to stable storage.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ioError classifies a filesystem error: ENOSPC and EDQUOT are ErrNoSpace,
// anything else ErrIO. Both are temporary.
func ioError(err error) error {
	if errors.Is(err, ErrNoSpace) || errors.Is(err, ErrIO) {
		return err
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %v", ErrNoSpace, err)
	}
	return fmt.Errorf("%w: %v", ErrIO, err)
}
