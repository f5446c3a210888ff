package cluster

import (
	"context"
	"testing"
	"time"

	"shoal/smbnode/wire"
)

const testUser, testPass = TestUser, TestPass

// startCluster is StartForTest.
func startCluster(t *testing.T, n int, tweak func(*Config)) *Cluster {
	t.Helper()
	return StartForTest(t, n, tweak)
}

// dial connects the test user to node i of c; the connection is closed
// when the test ends.
func dial(t *testing.T, c *Cluster, i int) *Client {
	t.Helper()
	return dialGUID(t, c, i, NewLeaseKey())
}

// dialGUID is dial with the client's ClientGuid.
func dialGUID(t *testing.T, c *Cluster, i int, guid [16]byte) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := DialGUID(ctx, c.Nodes[i].SMBAddr, testUser, testPass, "data", guid)
	if err != nil {
		t.Fatalf("node %s: %v", c.Nodes[i].Name, err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustOpen creates or opens r and fails the test unless it succeeds.
func mustOpen(t *testing.T, cl *Client, r CreateReq) *Open {
	t.Helper()
	o, err := cl.Create(ctx10(t), r)
	if err != nil {
		t.Fatalf("create %s: %v", r.Name, err)
	}
	if o.Status != 0 {
		t.Fatalf("create %s: %v", r.Name, o.Status)
	}
	return o
}

func mustClose(t *testing.T, cl *Client, id wire.FileID) {
	t.Helper()
	if s, err := cl.CloseFile(ctx10(t), id); err != nil || s != 0 {
		t.Fatalf("close: %v %v", s, err)
	}
}

// finished reports whether call's final response has arrived, without
// consuming it.
func finished(call *Call) bool { return len(call.final) > 0 }
