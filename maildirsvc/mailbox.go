package maildirsvc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/emersion/go-maildir"
	"github.com/emersion/go-maildir/maildirpp"
)

// target is where one recipient's copy goes.
type target struct {
	addr    Address
	mailbox string // the Maildir (INBOX) root: maildirsize lives here
	folder  string // the Maildir delivered into: mailbox or mailbox/.<detail>
	exists  bool   // mailbox exists; false only with auto_create
	quota   Quota
}

// mapper turns recipient addresses into targets. Safe for concurrent use.
type mapper struct {
	root       string // cleaned MailRoot, without trailing slash
	tmpl       string
	delim      string
	autoCreate bool
	dirMode    os.FileMode
	cfg        *Config
}

func newMapper(cfg *Config) *mapper {
	return &mapper{
		root:       filepath.Clean(cfg.MailRoot),
		tmpl:       cfg.PathTemplate,
		delim:      cfg.RecipientDelimiter,
		autoCreate: cfg.AutoCreate,
		dirMode:    cfg.DirMode,
		cfg:        cfg,
	}
}

// resolve maps raw (an RCPT TO path) to its target. It returns ErrBadAddress
// or ErrUnknownRecipient (wrapped), or ErrIO when the mail root cannot be read.
func (m *mapper) resolve(raw string) (target, error) {
	a, err := ParseAddress(raw, m.delim)
	if err != nil {
		return target{}, err
	}
	rel := strings.NewReplacer("{domain}", a.Domain, "{user}", a.User, "{address}", a.String()).Replace(m.tmpl)
	mbox := filepath.Join(m.root, rel)
	if !strings.HasPrefix(mbox, m.root+string(filepath.Separator)) {
		return target{}, fmt.Errorf("%w: %q maps outside mail_root", ErrBadAddress, raw)
	}
	t := target{addr: a, mailbox: mbox, folder: mbox, quota: m.cfg.quotaFor(a.String())}
	switch _, err := os.Stat(filepath.Join(mbox, "new")); {
	case err == nil:
		t.exists = true
	case errors.Is(err, fs.ErrNotExist):
		if !m.autoCreate {
			return target{}, fmt.Errorf("%w: %s", ErrUnknownRecipient, a)
		}
		return t, nil // created at delivery; no folders yet
	default:
		return target{}, fmt.Errorf("%w: %s: %v", ErrIO, a, err)
	}
	if f := m.detailFolder(mbox, a.Detail); f != "" {
		t.folder = f
	}
	return t, nil
}

// detailFolder returns the Maildir++ folder mbox/.<detail> if it exists
// (exact name first, then a case-insensitive match), else "".
func (m *mapper) detailFolder(mbox, detail string) string {
	if detail == "" || strings.HasPrefix(detail, ".") || strings.HasSuffix(detail, ".") {
		return ""
	}
	// a dotted detail names a subfolder (Maildir++: .a.b is b inside a)
	key, err := maildirpp.Join(strings.Split(detail, "."))
	if err != nil {
		return ""
	}
	if isMaildir(filepath.Join(mbox, key)) {
		return filepath.Join(mbox, key)
	}
	ents, err := os.ReadDir(mbox)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if e.IsDir() && strings.EqualFold(e.Name(), key) && isMaildir(filepath.Join(mbox, e.Name())) {
			return filepath.Join(mbox, e.Name())
		}
	}
	return ""
}

func isMaildir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "new"))
	return err == nil && fi.IsDir()
}

// create makes the Maildir t.mailbox (and its missing parents) durable: every
// directory created is followed by an fsync of its parent, so a message
// acknowledged afterwards cannot vanish with a directory entry.
func (m *mapper) create(t *target) error {
	var made []string
	for d := filepath.Dir(t.mailbox); len(d) > len(m.root); d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		made = append(made, d)
	}
	for i := len(made) - 1; i >= 0; i-- {
		if err := os.Mkdir(made[i], m.dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	if err := maildir.Dir(t.mailbox).Init(); err != nil {
		return err
	}
	dirs := []string{t.mailbox, filepath.Join(t.mailbox, "tmp"), filepath.Join(t.mailbox, "new"), filepath.Join(t.mailbox, "cur")}
	if m.dirMode != 0o700 {
		for _, d := range dirs {
			if err := os.Chmod(d, m.dirMode); err != nil {
				return err
			}
		}
	}
	for _, d := range append([]string{t.mailbox}, made...) {
		if err := syncDir(filepath.Dir(d)); err != nil {
			return err
		}
	}
	if err := syncDir(t.mailbox); err != nil {
		return err
	}
	t.exists = true
	return nil
}
