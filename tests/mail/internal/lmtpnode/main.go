// Command lmtpnode runs one maildirsvc LMTP server, standing in for
// `noded -dev` in the multi-process mail tests (and usable by hand):
//
//	lmtpnode -root DIR [-addr 127.0.0.1:0] [-node NAME] [-auto-create]
//	         [-quota-bytes N] [-quota-messages N] [-addr-file FILE] [-v]
//	lmtpnode deliver -root DIR [-node NAME] [-f SENDER] RECIPIENT...
//
// It prints "LISTEN <host:port>" on stdout once it accepts connections (and
// writes the address to -addr-file), stops on SIGTERM or SIGINT (Close:
// deliveries in flight finish) and prints the final Stats. deliver reads one
// message on stdin and exits with RunDeliver's sysexits code.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"shoal/maildirsvc"
)

func main() {
	deliver := len(os.Args) > 1 && os.Args[1] == "deliver"
	args := os.Args[1:]
	if deliver {
		args = args[1:]
	}
	fs := flag.NewFlagSet("lmtpnode", flag.ExitOnError)
	root := fs.String("root", "", "mail root (required)")
	addr := fs.String("addr", "127.0.0.1:0", "LMTP listen address")
	node := fs.String("node", "", "node name (default: hostname)")
	auto := fs.Bool("auto-create", false, "create missing mailboxes")
	qb := fs.Int64("quota-bytes", 0, "default quota, bytes")
	qm := fs.Int64("quota-messages", 0, "default quota, messages")
	addrFile := fs.String("addr-file", "", "write the listen address here")
	sender := fs.String("f", "", "envelope sender (deliver)")
	verbose := fs.Bool("v", false, "log every delivery")
	fs.Parse(args)

	cfg := maildirsvc.DefaultConfig()
	cfg.MailRoot = *root
	cfg.Listen = *addr
	cfg.Node = *node
	cfg.AutoCreate = *auto
	cfg.QuotaBytes = *qb
	cfg.QuotaMessages = *qm
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if deliver {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		os.Exit(maildirsvc.RunDeliver(ctx, cfg, *sender, fs.Args(), os.Stdin, os.Stderr))
	}

	srv, err := maildirsvc.NewServer(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lmtpnode:", err)
		os.Exit(2)
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lmtpnode:", err)
		os.Exit(1)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(l.Addr().String()+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "lmtpnode:", err)
			os.Exit(1)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		srv.Close()
	}()
	fmt.Printf("LISTEN %s\n", l.Addr())
	if err := srv.Serve(l); err != nil {
		fmt.Fprintln(os.Stderr, "lmtpnode:", err)
		os.Exit(1)
	}
	st := srv.Stats()
	fmt.Printf("STATS deliveries=%d bytes=%d connections=%d failures=%v\n", st.Deliveries, st.DeliveredBytes, st.Connections, st.Failures)
}
