package maildirsvc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Maildir++ quota (the maildirsize file, as Courier and Dovecot keep it):
//
//	line 1:  <bytes>S,<messages>C     the limits (a zero limit is left out)
//	then:    <bytes> <messages>       one line per change, summed by readers
//
// Deliveries append one line with a single O_APPEND write(2), which several
// nodes may do at once without a lock. The file is rebuilt (counted from the
// folders, written to tmp/ and renamed over maildirsize) when it is missing,
// unparseable, bigger than maildirsizeMax, written for other limits, or over
// quota and older than staleAfter: the usual Maildir++ rules, which also bound
// the drift that racing deliveries and recounts may cause.

const (
	maildirsizeName = "maildirsize"
	maildirsizeMax  = 5120
	staleAfter      = 15 * time.Minute
)

// usage is what a maildirsize file adds up to.
type usage struct {
	bytes, messages int64
}

func (q Quota) enabled() bool { return q.Bytes > 0 || q.Messages > 0 }

func (q Quota) header() string {
	var parts []string
	if q.Bytes > 0 {
		parts = append(parts, strconv.FormatInt(q.Bytes, 10)+"S")
	}
	if q.Messages > 0 {
		parts = append(parts, strconv.FormatInt(q.Messages, 10)+"C")
	}
	return strings.Join(parts, ",")
}

// exceeds reports whether adding a message of size bytes goes over q.
func (q Quota) exceeds(u usage, size int64) bool {
	return q.Bytes > 0 && u.bytes+size > q.Bytes || q.Messages > 0 && u.messages+1 > q.Messages
}

// parseMaildirsize parses a maildirsize file. It never panics; any malformed
// line is an error (the caller then recounts).
func parseMaildirsize(b []byte) (Quota, usage, error) {
	var q Quota
	var u usage
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return q, u, errors.New("maildirsize: empty or unterminated")
	}
	lines := strings.Split(string(b[:len(b)-1]), "\n")
	for _, part := range strings.Split(lines[0], ",") {
		if part == "" {
			continue
		}
		if len(part) < 2 {
			return q, u, fmt.Errorf("maildirsize: bad limit %q", part)
		}
		v, err := strconv.ParseInt(part[:len(part)-1], 10, 64)
		if err != nil || v < 0 {
			return q, u, fmt.Errorf("maildirsize: bad limit %q", part)
		}
		switch part[len(part)-1] {
		case 'S':
			q.Bytes = v
		case 'C':
			q.Messages = v
		default:
			return q, u, fmt.Errorf("maildirsize: bad limit %q", part)
		}
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 2 {
			return q, u, fmt.Errorf("maildirsize: bad line %q", l)
		}
		s, err1 := strconv.ParseInt(f[0], 10, 64)
		c, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return q, u, fmt.Errorf("maildirsize: bad line %q", l)
		}
		u.bytes += s
		u.messages += c
	}
	return q, u, nil
}

// quotaCheck returns ErrQuotaExceeded (wrapped) if a message of size bytes
// would take t over its quota, recounting the mailbox when maildirsize needs
// it. A mailbox without a quota is never read.
func (d *deliverer) quotaCheck(t *target, size int64) error {
	if !t.quota.enabled() || !t.exists {
		return nil
	}
	u, err := d.quotaUsage(t)
	if err != nil {
		return err
	}
	if t.quota.exceeds(u, size) {
		return fmt.Errorf("%w: %s holds %d bytes in %d messages, limit %s", ErrQuotaExceeded, t.addr, u.bytes, u.messages, t.quota.header())
	}
	return nil
}

// quotaUsage reads maildirsize, recounting when it is missing or stale.
func (d *deliverer) quotaUsage(t *target) (usage, error) {
	p := filepath.Join(t.mailbox, maildirsizeName)
	f, err := os.Open(p)
	if err == nil {
		defer f.Close()
		fi, serr := f.Stat()
		b, rerr := io.ReadAll(io.LimitReader(f, maildirsizeMax+1))
		if serr == nil && rerr == nil && len(b) <= maildirsizeMax {
			// Another node may be appending right now: a last line without
			// its newline is not read (it is counted next time).
			if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
				b = b[:i+1]
			}
			q, u, perr := parseMaildirsize(b)
			fresh := time.Since(fi.ModTime()) < staleAfter
			if perr == nil && q == t.quota && (fresh || !t.quota.exceeds(u, 0)) {
				return u, nil
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return usage{}, ioError(err)
	}
	return d.recount(t)
}

// recount sums every message of the mailbox and its folders and replaces
// maildirsize with the result.
func (d *deliverer) recount(t *target) (usage, error) {
	var u usage
	folders := []string{t.mailbox}
	ents, err := os.ReadDir(t.mailbox)
	if err != nil {
		return u, ioError(err)
	}
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && e.Name() != "." && e.Name() != ".." {
			folders = append(folders, filepath.Join(t.mailbox, e.Name()))
		}
	}
	for _, f := range folders {
		for _, sub := range []string{"new", "cur"} {
			dir := filepath.Join(f, sub)
			names, err := readNames(dir)
			if err != nil {
				continue // a folder without new/ or cur/ holds nothing
			}
			for _, n := range names {
				if strings.HasPrefix(n, ".") {
					continue
				}
				sz, ok := sizeTag(n)
				if !ok {
					fi, err := os.Lstat(filepath.Join(dir, n))
					if err != nil {
						continue // moved or expunged meanwhile
					}
					sz = fi.Size()
				}
				u.bytes += sz
				u.messages++
			}
		}
	}
	var b bytes.Buffer
	b.WriteString(t.quota.header())
	b.WriteByte('\n')
	fmt.Fprintf(&b, "%d %d\n", u.bytes, u.messages)
	tmp := filepath.Join(t.mailbox, "tmp", d.uniqueName()+".maildirsize")
	if err := os.WriteFile(tmp, b.Bytes(), d.fileMode); err != nil {
		os.Remove(tmp)
		return u, ioError(err)
	}
	if err := os.Rename(tmp, filepath.Join(t.mailbox, maildirsizeName)); err != nil {
		os.Remove(tmp)
		return u, ioError(err)
	}
	return u, nil
}

// quotaAdd records a delivered message of size bytes. Failures are not
// fatal: the next recount repairs the file.
func (d *deliverer) quotaAdd(t *target, size int64) {
	if !t.quota.enabled() {
		return
	}
	f, err := os.OpenFile(filepath.Join(t.mailbox, maildirsizeName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		// missing: count the folders (which already hold this message)
		d.recount(t)
		return
	}
	f.Write([]byte(strconv.FormatInt(size, 10) + " 1\n"))
	f.Close()
}

// sizeTag returns the S=<size> tag of a Maildir file name.
func sizeTag(name string) (int64, bool) {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	for _, part := range strings.Split(name, ",")[1:] {
		if v, ok := strings.CutPrefix(part, "S="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil && n >= 0
		}
	}
	return 0, false
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
