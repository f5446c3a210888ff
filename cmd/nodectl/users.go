package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"shoal/internal/admin"
	"shoal/smbnode/auth"
)

func (cl *cli) users(ctx context.Context, args []string) int {
	if len(args) == 0 {
		return cl.usageErr("usage: nodectl users list|add NAME|del NAME|passwd NAME|import FILE")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "list":
		if len(args) != 0 {
			return cl.usageErr("users list takes no arguments")
		}
		return cl.usersList(ctx)
	case "add", "passwd":
		if len(args) != 1 {
			return cl.usageErr("usage: nodectl users %s NAME (the password is read from the terminal or stdin)", sub)
		}
		return cl.usersSet(ctx, args[0], sub == "add")
	case "del":
		if len(args) != 1 {
			return cl.usageErr("usage: nodectl users del NAME")
		}
		rows, err := cl.c.DeleteUsers(ctx, []string{args[0]})
		if err != nil {
			return cl.fail(err)
		}
		return cl.results(rows, "user "+args[0]+" deleted")
	case "import":
		if len(args) != 1 {
			return cl.usageErr("usage: nodectl users import FILE (Samba smbpasswd format; - for stdin)")
		}
		return cl.usersImport(ctx, args[0])
	}
	return cl.usageErr("unknown users command %q", sub)
}

func (cl *cli) usersList(ctx context.Context) int {
	l, err := cl.c.Users(ctx)
	if err != nil {
		return cl.fail(err)
	}
	if cl.json {
		cl.printJSON(l)
		return exitOK
	}
	for _, u := range l.Users {
		fmt.Fprintln(cl.stdout, u)
	}
	return exitOK
}

func (cl *cli) usersSet(ctx context.Context, name string, add bool) int {
	if !admin.ValidUserName(name) {
		return cl.usageErr("%q is not a valid user name", name)
	}
	l, err := cl.c.Users(ctx)
	if err != nil {
		return cl.fail(err)
	}
	exists := false
	for _, u := range l.Users {
		exists = exists || strings.EqualFold(u, name)
	}
	switch {
	case add && exists:
		return cl.fail(fmt.Errorf("user %s exists; use nodectl users passwd %s", name, name))
	case !add && !exists:
		return cl.fail(fmt.Errorf("%w: %s", admin.ErrNoSuchUser, name))
	}
	pass, err := cl.readPassword(name)
	if err != nil {
		return cl.fail(err)
	}
	h := auth.NTHash(pass)
	rows, err := cl.c.SetUsers(ctx, []admin.User{{Name: name, NTHash: admin.FormatNTHash(h)}})
	if err != nil {
		return cl.fail(err)
	}
	what := "added"
	if !add {
		what = "password changed"
	}
	return cl.results(rows, "user "+name+" "+what)
}

// results prints one line per node changed; exit 3 if any failed.
func (cl *cli) results(rows []admin.NodeResult, done string) int {
	if cl.json {
		cl.printJSON(rows)
	}
	partial := false
	for _, r := range rows {
		if r.Err != "" {
			partial = true
			if !cl.json {
				fmt.Fprintf(cl.stdout, "%s: ERROR: %s\n", r.Node, r.Err)
			}
		} else if !cl.json {
			fmt.Fprintf(cl.stdout, "%s: %s\n", r.Node, done)
		}
	}
	return exitFor(partial)
}

func (cl *cli) usersImport(ctx context.Context, path string) int {
	var r io.Reader = cl.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return cl.fail(err)
		}
		defer f.Close()
		r = f
	}
	entries, err := admin.ParseSmbpasswd(r)
	if err != nil {
		return cl.fail(fmt.Errorf("%s: %w", path, err))
	}
	var users []admin.User
	var skipped []string
	for _, e := range entries {
		switch {
		case e.Machine():
			skipped = append(skipped, e.Name+" (machine account)")
		case e.Disabled():
			skipped = append(skipped, e.Name+" (disabled)")
		case !e.HasNTHash:
			skipped = append(skipped, e.Name+" (no password)")
		default:
			users = append(users, admin.User{Name: e.Name, NTHash: admin.FormatNTHash(e.NTHash)})
		}
	}
	sort.Strings(skipped)
	for _, s := range skipped {
		fmt.Fprintf(cl.stderr, "nodectl: skipped %s\n", s)
	}
	if len(users) == 0 {
		return cl.fail(errors.New(path + ": no importable users"))
	}
	rows, err := cl.c.SetUsers(ctx, users)
	if err != nil {
		return cl.fail(err)
	}
	return cl.results(rows, fmt.Sprintf("imported %d users", len(users)))
}

// readPassword reads the password: from the terminal without echo, twice,
// when stdin is one; otherwise the first line of stdin.
func (cl *cli) readPassword(name string) (string, error) {
	f, isFile := cl.stdin.(*os.File)
	if isFile {
		if t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			p1, err := promptNoEcho(f, t, cl.stderr, "New password for "+name+": ")
			if err != nil {
				return "", err
			}
			p2, err := promptNoEcho(f, t, cl.stderr, "Retype password: ")
			if err != nil {
				return "", err
			}
			if p1 != p2 {
				return "", errors.New("passwords do not match")
			}
			if p1 == "" {
				return "", errors.New("empty password")
			}
			return p1, nil
		}
	}
	line, err := bufio.NewReader(cl.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty password on stdin")
	}
	return line, nil
}

// promptNoEcho turns echo off on the terminal f (t is its current state),
// reads one line and restores the terminal.
func promptNoEcho(f *os.File, t *unix.Termios, out io.Writer, prompt string) (string, error) {
	noEcho := *t
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ECHONL
	fd := int(f.Fd())
	// Echo goes off before the prompt shows, so nothing typed after the
	// prompt can appear on the screen.
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &noEcho); err != nil {
		return "", err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, t)
	fmt.Fprint(out, prompt)
	// Read byte by byte so nothing after the newline is consumed.
	var b []byte
	var one [1]byte
	for {
		n, err := f.Read(one[:])
		if n == 1 {
			if one[0] == '\n' {
				break
			}
			b = append(b, one[0])
			if len(b) > 1024 {
				return "", errors.New("password longer than 1024 bytes")
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(b) > 0 {
				break
			}
			return "", err
		}
	}
	return strings.TrimRight(string(b), "\r"), nil
}
