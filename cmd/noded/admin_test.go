package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shoal/internal/admin"
	"shoal/lockdb"
	"shoal/lockdb/table"
	"shoal/smbnode"
)

type nopOwner struct{}

func (nopOwner) Break(context.Context, table.Break) error { return nil }
func (nopOwner) Fenced()                                  {}

// TestAdminWithCluster runs the admin API of a node backed by a real
// single-node lockdb cluster: generation and coordinator come from lockdb,
// users go to its replicated table.
func TestAdminWithCluster(t *testing.T) {
	dir, err := os.MkdirTemp("", "ndadm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{"state", "shared", "data"} {
		os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	lc := lockdb.TestConfig("n1", filepath.Join(dir, "state"), filepath.Join(dir, "shared"))
	cluster, err := lockdb.New(lc, nopOwner{})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}

	smbCfg := smbnode.DefaultConfig()
	smbCfg.Listen = "127.0.0.1:0"
	smbCfg.Node = "n1"
	smbCfg.Users = cluster.Users()
	smbCfg.Shares = []smbnode.ShareConfig{{Name: "data", Path: filepath.Join(dir, "data")}}
	n, err := newNode(smbCfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "n1.sock")
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ml.Addr().String()
	ml.Close()
	if err := n.startAdmin(adminOptions{node: "n1", socket: sock, cluster: cluster, metrics: metricsAddr}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range n.closers {
			c()
		}
		n.smb.Close()
		n.smbLn.Close()
	}()

	c := admin.NewClient(sock)
	st, err := c.Status(ctx)
	if err != nil || len(st) != 1 {
		t.Fatalf("status: %+v %v", st, err)
	}
	if st[0].Generation == 0 || st[0].Coordinator != "n1" || st[0].State != "healthy" {
		t.Errorf("status from lockdb: %+v", st[0])
	}
	rows, err := c.SetUsers(ctx, []admin.User{{Name: "Eve", NTHash: admin.FormatNTHash([16]byte{9})}})
	if err != nil || len(rows) != 1 || rows[0].Err != "" {
		t.Fatalf("users set: %+v %v", rows, err)
	}
	if h, ok := cluster.Users().NTHash("eve"); !ok || h != [16]byte{9} {
		t.Errorf("lockdb users table: eve = %x %v", h, ok)
	}
	l, err := c.Users(ctx)
	if err != nil || !l.Replicated || len(l.Users) != 1 || l.Users[0] != "eve" {
		t.Errorf("users list: %+v %v", l, err)
	}
	if _, err := c.DeleteUsers(ctx, []string{"nobody"}); !errors.Is(err, admin.ErrNoSuchUser) {
		t.Errorf("delete unknown: %v", err)
	}
	ls, err := c.Locks(ctx)
	if err != nil || len(ls) != 1 || ls[0].Err != "" || len(ls[0].Locks) != 0 {
		t.Errorf("locks through lockdb: %+v %v", ls, err)
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"shoal_cluster_generation " + fmt.Sprint(st[0].Generation), "shoal_cluster_coordinator 1", "shoal_cluster_fenced 0", "shoal_smb_sessions 0"} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	n.smb.SetDraining(true)
	if st, _ := c.Status(ctx); st[0].State != "draining" {
		t.Errorf("draining: %+v", st)
	}
}
