package maildirsvc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/emersion/go-smtp"
)

// spool holds one message body with LF line endings: the first memLimit
// bytes in memory, the rest in an unlinked temporary file. Not safe for
// concurrent use.
type spool struct {
	mem      []byte
	file     *os.File
	fileLen  int64
	memLimit int64
	dir      string
}

var memPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
var readPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func newSpool(memLimit int64, dir string) *spool {
	bp := memPool.Get().(*[]byte)
	return &spool{mem: (*bp)[:0], memLimit: memLimit, dir: dir}
}

// size is the number of stored bytes.
func (s *spool) size() int64 { return int64(len(s.mem)) + s.fileLen }

func (s *spool) write(p []byte) error {
	if room := s.memLimit - int64(len(s.mem)); s.file == nil && room > 0 {
		k := int64(len(p))
		if k > room {
			k = room
		}
		s.mem = append(s.mem, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return nil
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "shoal-spool-*")
		if err != nil {
			return ioError(err)
		}
		os.Remove(f.Name())
		s.file = f
	}
	n, err := s.file.Write(p)
	s.fileLen += int64(n)
	if err != nil {
		return ioError(err)
	}
	return nil
}

// reader returns a new reader over the whole body; it also seeks.
func (s *spool) reader() io.ReadSeeker {
	if s.file == nil {
		return bytes.NewReader(s.mem)
	}
	return &spoolReader{s: s}
}

// release returns the memory and closes the file. The spool is unusable after.
func (s *spool) release() {
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
	if cap(s.mem) <= 4<<20 {
		b := s.mem[:0]
		memPool.Put(&b)
	}
	s.mem = nil
}

type spoolReader struct {
	s   *spool
	off int64
}

func (r *spoolReader) Read(p []byte) (int, error) {
	ml := int64(len(r.s.mem))
	switch {
	case r.off < ml:
		n := copy(p, r.s.mem[r.off:])
		r.off += int64(n)
		return n, nil
	case r.off < ml+r.s.fileLen:
		max := ml + r.s.fileLen - r.off
		if int64(len(p)) > max {
			p = p[:max]
		}
		n, err := r.s.file.ReadAt(p, r.off-ml)
		r.off += int64(n)
		if err == io.EOF && n > 0 {
			err = nil
		}
		return n, err
	}
	return 0, io.EOF
}

func (r *spoolReader) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekStart || off < 0 {
		return r.off, errors.New("spoolReader: only absolute seeks")
	}
	r.off = off
	return off, nil
}

// readMessage copies r into s, turning CRLF into LF. limit > 0 bounds the
// bytes read from r: more is ErrMessageTooBig. skipFrom drops a leading mbox
// "From " line (for `deliver`, which may get one from the MTA).
func readMessage(r io.Reader, s *spool, limit int64, skipFrom bool) error {
	bp := readPool.Get().(*[]byte)
	defer readPool.Put(bp)
	buf := *bp
	var total int64
	cr := false // the previous chunk ended in a CR that is still held back
	first := skipFrom
	out := make([]byte, 0, len(buf)+1)
	for {
		n, err := r.Read(buf)
		total += int64(n)
		if limit > 0 && total > limit {
			return fmt.Errorf("%w: more than %d bytes", ErrMessageTooBig, limit)
		}
		if n > 0 {
			chunk := buf[:n]
			if first {
				// the first line must fit in the first chunk to be dropped
				first = false
				if bytes.HasPrefix(chunk, []byte("From ")) {
					if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
						chunk = chunk[i+1:]
					}
				}
			}
			out = out[:0]
			if cr {
				if len(chunk) > 0 && chunk[0] == '\n' {
					out = append(out, '\n')
					chunk = chunk[1:]
				} else {
					out = append(out, '\r')
				}
				cr = false
			}
			out, cr = appendLF(out, chunk)
			if werr := s.write(out); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return classifyReadError(err)
		}
	}
	if cr {
		return s.write([]byte{'\r'})
	}
	return nil
}

// appendLF appends p to out with every CRLF turned into LF. A CR at the very
// end of p is not appended; held reports it.
func appendLF(out, p []byte) (_ []byte, held bool) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\r')
		if i < 0 {
			return append(out, p...), false
		}
		out = append(out, p[:i]...)
		switch {
		case i == len(p)-1:
			return out, true
		case p[i+1] == '\n':
			out = append(out, '\n')
			p = p[i+2:]
		default:
			out = append(out, '\r')
			p = p[i+1:]
		}
	}
	return out, false
}

// classifyReadError maps an error of the message reader: go-smtp's size
// limit error becomes ErrMessageTooBig, the rest ErrBadMessage.
func classifyReadError(err error) error {
	if errors.Is(err, ErrMessageTooBig) || errors.Is(err, ErrNoSpace) || errors.Is(err, ErrIO) {
		return err
	}
	if errors.Is(err, smtp.ErrDataTooLarge) {
		return fmt.Errorf("%w: %w", ErrMessageTooBig, err)
	}
	return fmt.Errorf("%w: %w", ErrBadMessage, err)
}

// traceHeaders returns the Return-Path and Delivered-To lines prepended to
// every stored copy.
func traceHeaders(sender string, rcpt Address) []byte {
	sender = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, sender)
	return []byte("Return-Path: <" + sender + ">\nDelivered-To: " + rcpt.String() + "\n")
}
