package maildirsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// RunDeliver is `noded deliver`: it reads one message from r (CRLF or LF
// line endings; a leading mbox "From " line is dropped), stores it for every
// recipient with the same mapping, quota and durability as the LMTP server,
// writes one line per recipient to w and returns a sysexits code:
//
//	0  every recipient delivered
//	75 EX_TEMPFAIL  some recipient failed temporarily (I/O, disk full, ctx):
//	                the MTA retries; pipe one recipient per call to avoid
//	                duplicates for the others
//	67 EX_NOUSER    unknown or invalid recipient (and no temporary failure)
//	73 EX_CANTCREAT mailbox over quota
//	65 EX_DATAERR   the message could not be read or exceeds max_message_size
//	64 EX_USAGE / 78 EX_CONFIG  no recipients / bad configuration
//
// cfg must have MailRoot set; Validate is called here.
func RunDeliver(ctx context.Context, cfg Config, sender string, rcpts []string, r io.Reader, w io.Writer) int {
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(w, "deliver: %v\n", err)
		return ExitConfig
	}
	if err := checkMailRoot(cfg.MailRoot); err != nil {
		fmt.Fprintf(w, "deliver: %v\n", err)
		return ExitConfig
	}
	if len(rcpts) == 0 {
		fmt.Fprintln(w, "deliver: no recipients")
		return ExitUsage
	}
	eng := newEngine(&cfg)
	// Resolve first: unknown recipients need no message.
	targets := make([]target, len(rcpts))
	errs := make([]error, len(rcpts))
	for i, raw := range rcpts {
		targets[i], errs[i] = eng.checkRecipient(raw, 0)
	}
	sp := newSpool(cfg.SpoolMemoryBytes, cfg.SpoolDir)
	defer sp.release()
	if err := readMessage(ctxReader{ctx, r}, sp, cfg.MaxMessageBytes, true); err != nil {
		code := ExitDataErr
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			code = ExitTempFail
		}
		fmt.Fprintf(w, "deliver: reading the message: %v\n", err)
		return code
	}
	exit := ExitOK
	worse := func(code int) {
		// temporary beats permanent, permanent beats success
		switch {
		case exit == ExitTempFail:
		case code == ExitTempFail, exit == ExitOK:
			exit = code
		}
	}
	for i, raw := range rcpts {
		err := errs[i]
		var p string
		if err == nil {
			if cerr := ctx.Err(); cerr != nil {
				err = fmt.Errorf("%w: %v", ErrShuttingDown, cerr)
			} else {
				p, err = eng.store(&targets[i], sender, sp)
			}
		}
		if err != nil {
			o := outcomeOf(err)
			fmt.Fprintf(w, "%s: %d %d.%d.%d %s (%v)\n", raw, o.code, o.enh[0], o.enh[1], o.enh[2], o.text, err)
			worse(o.exit)
			continue
		}
		fmt.Fprintf(w, "%s: 250 2.0.0 delivered to %s\n", raw, p)
	}
	return exit
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
