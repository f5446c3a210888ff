package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// table writes aligned columns; an error row spans the rest of its line.
type table struct{ tw *tabwriter.Writer }

func (cl *cli) table(header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(cl.stdout, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cols ...string) { fmt.Fprintln(t.tw, strings.Join(cols, "\t")) }

func (t *table) errRow(node, err string) { t.row(node, "ERROR: "+err) }

func (t *table) flush() { t.tw.Flush() }

// exitFor is exitPartial when any node did not answer.
func exitFor(partial bool) int {
	if partial {
		return exitPartial
	}
	return exitOK
}

func (cl *cli) status(ctx context.Context) int {
	rows, err := cl.c.Status(ctx)
	if err != nil {
		return cl.fail(err)
	}
	partial := false
	for _, r := range rows {
		partial = partial || r.Err != ""
	}
	if cl.json {
		cl.printJSON(rows)
		return exitFor(partial)
	}
	t := cl.table("NODE", "STATE", "GENERATION", "COORDINATOR", "UPTIME", "SESSIONS", "CONNECTIONS", "OPENS", "SMB", "LMTP")
	for _, r := range rows {
		if r.Err != "" {
			t.row(r.Node, r.State, "ERROR: "+r.Err)
			continue
		}
		coord := r.Coordinator
		if coord == "" {
			coord = "-"
		}
		t.row(r.Node, r.State, strconv.FormatUint(r.Generation, 10), coord,
			duration(time.Duration(r.UptimeSeconds)*time.Second), strconv.Itoa(r.Sessions),
			strconv.Itoa(r.Connections), strconv.Itoa(r.Opens), dash(r.SMB), dash(r.LMTP))
	}
	t.flush()
	return exitFor(partial)
}

func (cl *cli) sessions(ctx context.Context) int {
	rows, err := cl.c.Sessions(ctx)
	if err != nil {
		return cl.fail(err)
	}
	partial := false
	for _, r := range rows {
		partial = partial || r.Err != ""
	}
	if cl.json {
		cl.printJSON(rows)
		return exitFor(partial)
	}
	t := cl.table("NODE", "SESSION", "USER", "CLIENT", "DIALECT", "SIGNING", "ENCRYPTION", "OPENS", "IDLE", "CONNECTED")
	for _, r := range rows {
		if r.Err != "" {
			t.errRow(r.Node, r.Err)
			continue
		}
		for _, s := range r.Sessions {
			user := s.User
			if s.State != "valid" {
				user += " (" + s.State + ")"
			}
			t.row(r.Node, sessionID(s.ID), dash(user), s.Client, s.Dialect, s.Signing, s.Encryption,
				strconv.Itoa(s.Opens), duration(time.Duration(s.IdleSeconds)*time.Second),
				s.Connected.Local().Format("2006-01-02 15:04:05"))
		}
	}
	t.flush()
	return exitFor(partial)
}

func (cl *cli) files(ctx context.Context) int {
	rows, err := cl.c.Files(ctx)
	if err != nil {
		return cl.fail(err)
	}
	partial := false
	for _, r := range rows {
		partial = partial || r.Err != ""
	}
	if cl.json {
		cl.printJSON(rows)
		return exitFor(partial)
	}
	t := cl.table("NODE", "SHARE", "PATH", "USER", "SESSION", "ACCESS", "SHARE-MODE", "CACHING", "DURABLE")
	for _, r := range rows {
		if r.Err != "" {
			t.errRow(r.Node, r.Err)
			continue
		}
		for _, f := range r.Files {
			path := f.Path
			if f.Dir && !strings.HasSuffix(path, `\`) {
				path += `\`
			}
			t.row(r.Node, f.Share, path, dash(f.User), sessionID(f.Session), access(f.Access),
				shareMode(f.ShareAccess), f.Caching, yesNo(f.Durable))
		}
	}
	t.flush()
	return exitFor(partial)
}

func (cl *cli) locks(ctx context.Context) int {
	rows, err := cl.c.Locks(ctx)
	if err != nil {
		return cl.fail(err)
	}
	partial := false
	for _, r := range rows {
		partial = partial || r.Err != ""
	}
	if cl.json {
		cl.printJSON(rows)
		return exitFor(partial)
	}
	t := cl.table("NODE", "SHARE", "FILE", "RANGE", "TYPE", "SESSION", "USER")
	for _, r := range rows {
		if r.Err != "" {
			t.errRow(r.Node, r.Err)
			continue
		}
		for _, l := range r.Locks {
			file := l.Path
			if file == "" {
				file = fmt.Sprintf("inode %d", l.Inode)
			}
			typ := "shared"
			if l.Exclusive {
				typ = "exclusive"
			}
			t.row(r.Node, l.Share, file, lockRange(l.Offset, l.Length), typ, sessionID(l.Session), dash(l.User))
		}
	}
	t.flush()
	return exitFor(partial)
}

func (cl *cli) kill(ctx context.Context, arg string) int {
	id, err := parseSessionID(arg)
	if err != nil {
		return cl.usageErr("kill: %v", err)
	}
	rows, err := cl.c.Kill(ctx, id)
	if err != nil {
		return cl.fail(err)
	}
	killed, partial := false, false
	for _, r := range rows {
		killed = killed || r.Killed
		partial = partial || r.Err != ""
	}
	if cl.json {
		cl.printJSON(rows)
	} else {
		for _, r := range rows {
			switch {
			case r.Err != "":
				fmt.Fprintf(cl.stdout, "%s: ERROR: %s\n", r.Node, r.Err)
			case r.Killed:
				fmt.Fprintf(cl.stdout, "%s: session %s disconnected\n", r.Node, sessionID(id))
			}
		}
	}
	switch {
	case killed && partial:
		return exitPartial
	case killed:
		return exitOK
	default:
		// Not found on the nodes that answered, and some did not answer.
		fmt.Fprintf(cl.stderr, "nodectl: session %s not found on the nodes that answered\n", sessionID(id))
		return exitPartial
	}
}

func (cl *cli) drain(ctx context.Context, node string, on bool) int {
	res, err := cl.c.Drain(ctx, node, on)
	if err != nil {
		return cl.fail(err)
	}
	if cl.json {
		cl.printJSON(res)
		return exitOK
	}
	if on {
		fmt.Fprintf(cl.stdout, "%s: draining (new SMB and LMTP connections refused, existing ones continue)\n", res.Node)
	} else {
		fmt.Fprintf(cl.stdout, "%s: accepting connections\n", res.Node)
	}
	return exitOK
}

// sessionID prints a session id the way kill accepts it.
func sessionID(id uint64) string { return fmt.Sprintf("0x%x", id) }

func parseSessionID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 0, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%q is not a session id (as nodectl sessions lists it)", s)
	}
	return id, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// duration prints 3s, 4m05s, 2h03m, 3d04h.
func duration(d time.Duration) string {
	s := int64(d.Seconds())
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// access prints the access mask and, for the common bits, letters:
// R read, W write, A append, X execute, D delete.
func access(a uint32) string {
	var b strings.Builder
	for _, x := range []struct {
		bit uint32
		c   byte
	}{{0x1, 'R'}, {0x2, 'W'}, {0x4, 'A'}, {0x20, 'X'}, {0x10000, 'D'}} {
		if a&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	if b.Len() == 0 {
		b.WriteByte('-')
	}
	return fmt.Sprintf("0x%06x(%s)", a, b.String())
}

// shareMode prints FILE_SHARE_READ, _WRITE and _DELETE as R, W, D (a
// dash where the open denies the others that access).
func shareMode(s uint32) string {
	b := []byte("---")
	if s&1 != 0 {
		b[0] = 'R'
	}
	if s&2 != 0 {
		b[1] = 'W'
	}
	if s&4 != 0 {
		b[2] = 'D'
	}
	return string(b)
}

// lockRange prints offset and length as [start, end].
func lockRange(off, length uint64) string {
	if length == 0 {
		return fmt.Sprintf("%d (zero length)", off)
	}
	end := off + length - 1
	if end < off {
		end = ^uint64(0)
	}
	return fmt.Sprintf("%d-%d (%d bytes)", off, end, length)
}
