package maildirsvc

import (
	"fmt"
	"log/slog"
)

// engine is the delivery path shared by the LMTP server and RunDeliver:
// recipient mapping, quota, durable write. Safe for concurrent use.
type engine struct {
	cfg *Config
	log *slog.Logger
	m   *mapper
	d   *deliverer
}

func newEngine(cfg *Config) *engine {
	return &engine{cfg: cfg, log: cfg.logger(), m: newMapper(cfg), d: newDeliverer(cfg.Node, cfg.FileMode)}
}

// checkRecipient resolves raw and checks that the mailbox has room for a
// message of size bytes (0 when unknown).
func (e *engine) checkRecipient(raw string, size int64) (target, error) {
	t, err := e.m.resolve(raw)
	if err != nil {
		return t, err
	}
	return t, e.d.quotaCheck(&t, size)
}

// store delivers the spooled body to t, with the trace headers for sender,
// and returns the path of the new file. The quota is checked again with the
// real size (other deliveries may have filled the mailbox since RCPT).
func (e *engine) store(t *target, sender string, sp *spool) (string, error) {
	if !t.exists {
		if err := e.m.create(t); err != nil {
			return "", ioError(fmt.Errorf("creating %s: %w", t.mailbox, err))
		}
		e.log.Info("created mailbox", "mailbox", t.mailbox)
	}
	hdr := traceHeaders(sender, t.addr)
	size := int64(len(hdr)) + sp.size()
	if err := e.d.quotaCheck(t, size); err != nil {
		return "", err
	}
	p, err := e.d.deliver(t.folder, hdr, sp.reader(), size)
	if err != nil {
		return "", err
	}
	e.d.quotaAdd(t, size)
	return p, nil
}
