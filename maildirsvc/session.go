package maildirsvc

import (
	"io"
	"log/slog"
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

// LMTPData reads the message once and stores one copy per distinct
// recipient folder, answering each recipient only after its copy is durable.
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
	done := make(map[string]error, len(ss.rcpts))
	for _, rc := range ss.rcpts {
		err, dup := done[rc.t.folder+"\x00"+rc.t.addr.String()]
		if !dup {
			var p string
			p, err = ss.s.eng.store(&rc.t, ss.from, sp)
			done[rc.t.folder+"\x00"+rc.t.addr.String()] = err
			if err == nil {
				ss.s.stats.deliveries.Add(1)
				ss.s.stats.bytes.Add(sp.size())
				ss.log.Debug("delivered", "rcpt", rc.raw, "file", p, "size", sp.size(), "ms", time.Since(start).Milliseconds())
			} else {
				ss.s.stats.fail(err)
				ss.log.Warn("delivery failed", "rcpt", rc.raw, "err", err)
			}
		}
		if err == nil {
			status.SetStatus(rc.raw, replyDelivered)
		} else {
			status.SetStatus(rc.raw, smtpError(err))
		}
	}
	return nil
}
