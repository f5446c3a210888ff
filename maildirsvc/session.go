package maildirsvc

import (
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// session is one LMTP transaction state; go-smtp calls it from the
// connection's goroutine only (LMTPData from one more goroutine, but never
// concurrently with the other methods).
type session struct {
	s     *Server
	conn  *trackedConn
	log   *slog.Logger
	from  string
	size  int64 // SIZE= from MAIL, 0 if not given
	rcpts []rcpt
}

type rcpt struct {
	raw string // as received: go-smtp's StatusCollector key
	t   target
}

var _ smtp.LMTPSession = (*session)(nil)

// Reset ends the transaction. A closing server ends the connection once its
// transaction is over (the replies are written by then).
func (ss *session) Reset() {
	ss.from, ss.size, ss.rcpts = "", 0, nil
	if ss.conn != nil {
		ss.conn.inTxn.Store(false)
		if ss.s.closing.Load() {
			ss.conn.kick()
		}
	}
}

func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if ss.s.closing.Load() {
		return smtpError(ErrShuttingDown)
	}
	ss.from, ss.size, ss.rcpts = from, 0, nil
	if ss.conn != nil {
		// from MAIL to the end of the transaction, Close waits for it
		ss.conn.inTxn.Store(true)
	}
	if opts != nil {
		ss.size = opts.Size
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	t, err := ss.s.eng.checkRecipient(to, ss.size)
	if err != nil {
		ss.s.stats.fail(err)
		ss.log.Info("recipient refused", "rcpt", to, "err", err)
		return smtpError(err)
	}
	ss.rcpts = append(ss.rcpts, rcpt{raw: to, t: t})
	return nil
}

// Data is the plain SMTP entry point; go-smtp uses LMTPData in LMTP mode.
func (ss *session) Data(r io.Reader) error {
	var first error
	err := ss.LMTPData(r, statusFunc(func(_ string, err error) {
		if first == nil && err != replyDelivered {
			first = err
		}
	}))
	if err != nil {
		return err
	}
	return first
}

type statusFunc func(string, error)

func (f statusFunc) SetStatus(rcpt string, err error) { f(rcpt, err) }

// maxParallelCopies bounds how many copies of one message are written at
// once: each copy waits mostly for its two flushes, so copies for different
// recipients overlap well.
const maxParallelCopies = 8

// LMTPData reads the message once and stores one copy per distinct
// recipient folder, several at a time, answering each recipient as soon as
// its copy is durable (go-smtp sends the replies in RCPT order).
func (ss *session) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	start := time.Now()
	sp := newSpool(ss.s.cfg.SpoolMemoryBytes, ss.s.cfg.SpoolDir)
	defer sp.release()
	if err := readMessage(r, sp, 0, false); err != nil {
		for range ss.rcpts {
			ss.s.stats.fail(err)
		}
		ss.log.Info("message not received", "err", err)
		return smtpError(err)
	}
	// one copy per mailbox folder; duplicate recipients share its reply
	type copyJob struct {
		t    *target
		raws []string
	}
	var jobs []*copyJob
	byKey := make(map[string]*copyJob, len(ss.rcpts))
	for i := range ss.rcpts {
		rc := &ss.rcpts[i]
		k := rc.t.folder + "\x00" + rc.t.addr.String()
		if j := byKey[k]; j != nil {
			j.raws = append(j.raws, rc.raw)
			continue
		}
		j := &copyJob{t: &rc.t, raws: []string{rc.raw}}
		byKey[k] = j
		jobs = append(jobs, j)
	}
	run := func(j *copyJob) {
		p, err := ss.s.eng.store(j.t, ss.from, sp)
		reply := replyDelivered
		if err == nil {
			ss.s.stats.deliveries.Add(1)
			ss.s.stats.bytes.Add(sp.size())
			ss.log.Debug("delivered", "rcpt", j.raws[0], "file", p, "size", sp.size(), "ms", time.Since(start).Milliseconds())
		} else {
			for range j.raws {
				ss.s.stats.fail(err)
			}
			ss.log.Warn("delivery failed", "rcpt", j.raws[0], "err", err)
			reply = smtpError(err).(*smtp.SMTPError)
		}
		for _, raw := range j.raws {
			status.SetStatus(raw, reply) // safe for distinct recipients at once
		}
	}
	if len(jobs) == 1 {
		run(jobs[0])
		return nil
	}
	sem := make(chan struct{}, maxParallelCopies)
	var wg sync.WaitGroup
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			run(j)
		}()
	}
	wg.Wait()
	return nil
}
