// Command nodectl manages a Shoal cluster through the local noded's admin
// socket; cluster-wide answers are gathered by that noded from every node.
//
//	nodectl [-socket PATH] status|sessions|files|locks [--json]
//	nodectl [-socket PATH] kill SESSION
//	nodectl [-socket PATH] drain NODE | undrain NODE
//	nodectl [-socket PATH] users list | add NAME | del NAME | passwd NAME | import FILE
//
// Exit status: 0 ok, 1 error, 2 usage, 3 partial (some node did not
// answer: its row says ERROR and the rest of the answer is still printed).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"shoal/internal/admin"
)

const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitPartial = 3
)

// defaultSocket is the packaged noded's socket.
const defaultSocket = "/run/shoal/noded.sock"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: nodectl [-socket PATH] [-tcp HOST:PORT -token-file FILE] COMMAND [--json]

commands:
  status              nodes, state, generation, coordinator, uptime, sessions
  sessions            SMB sessions of every node
  files               open files of every node
  locks               byte-range locks of every node
  kill SESSION        disconnect a session (id as listed, hex or decimal)
  drain NODE          refuse new SMB and LMTP connections on NODE
  undrain NODE        accept them again
  users list
  users add NAME      password from the terminal, or one line on stdin
  users passwd NAME
  users del NAME
  users import FILE   Samba smbpasswd file ("-" for stdin)

exit status: 0 ok, 1 error, 2 usage, 3 partial (some node did not answer)
`

// cli is one nodectl run.
type cli struct {
	c      *admin.Client
	json   bool
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nodectl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	socket := fs.String("socket", "", "admin socket of the local noded (default "+defaultSocket+", or $SHOAL_ADMIN_SOCKET)")
	tcp := fs.String("tcp", "", "talk to a noded's admin TCP listener instead of a socket")
	tokenFile := fs.String("token-file", "", "with -tcp: file holding the bearer token")
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	// --json may come after the command too.
	var rest []string
	for _, a := range args {
		if a == "--json" || a == "-json" {
			*asJSON = true
			continue
		}
		rest = append(rest, a)
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "nodectl: %v\n%s", err, usage)
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var c *admin.Client
	if *tcp != "" {
		if *tokenFile == "" {
			fmt.Fprintln(stderr, "nodectl: -tcp needs -token-file")
			return exitUsage
		}
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "nodectl: %v\n", err)
			return exitError
		}
		c = admin.NewTCPClient(*tcp, strings.TrimSpace(string(b)))
	} else {
		c = admin.NewClient(socketPath(*socket))
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cl := &cli{c: c, json: *asJSON, stdin: stdin, stdout: stdout, stderr: stderr}
	return cl.dispatch(ctx, fs.Args())
}

// socketPath: the flag, $SHOAL_ADMIN_SOCKET, the packaged path, or the
// socket of `noded -dev` when the packaged one does not exist.
func socketPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := os.Getenv("SHOAL_ADMIN_SOCKET"); p != "" {
		return p
	}
	if _, err := os.Stat(defaultSocket); err == nil {
		return defaultSocket
	}
	dev := fmt.Sprintf("%s/shoal-%d/noded.sock", strings.TrimRight(os.TempDir(), "/"), os.Getuid())
	if _, err := os.Stat(dev); err == nil {
		return dev
	}
	return defaultSocket
}

func (cl *cli) usageErr(format string, args ...any) int {
	fmt.Fprintf(cl.stderr, "nodectl: "+format+"\n", args...)
	return exitUsage
}

func (cl *cli) fail(err error) int {
	fmt.Fprintf(cl.stderr, "nodectl: %v\n", err)
	return exitError
}

func (cl *cli) dispatch(ctx context.Context, args []string) int {
	cmd, args := args[0], args[1:]
	switch cmd {
	case "status", "sessions", "files", "locks":
		if len(args) != 0 {
			return cl.usageErr("%s takes no arguments", cmd)
		}
	}
	switch cmd {
	case "status":
		return cl.status(ctx)
	case "sessions":
		return cl.sessions(ctx)
	case "files":
		return cl.files(ctx)
	case "locks":
		return cl.locks(ctx)
	case "kill":
		if len(args) != 1 {
			return cl.usageErr("usage: nodectl kill SESSION")
		}
		return cl.kill(ctx, args[0])
	case "drain", "undrain":
		if len(args) != 1 {
			return cl.usageErr("usage: nodectl %s NODE", cmd)
		}
		return cl.drain(ctx, args[0], cmd == "drain")
	case "users":
		return cl.users(ctx, args)
	case "help":
		fmt.Fprint(cl.stdout, usage)
		return exitOK
	}
	return cl.usageErr("unknown command %q (see nodectl -h)", cmd)
}

// printJSON writes v indented; the exit code still reflects partial answers.
func (cl *cli) printJSON(v any) {
	enc := json.NewEncoder(cl.stdout)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
