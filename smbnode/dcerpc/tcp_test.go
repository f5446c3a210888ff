package dcerpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"reflect"
	"sync"
	"testing"
)

// serveTCP serves a Pipe per connection over ncacn_ip_tcp on loopback: the
// connection-oriented protocol is the same byte stream as on a named pipe,
// which lets Samba's own DCE/RPC client talk to a Pipe without an SMB
// server in between. It returns the port.
func serveTCP(t *testing.T, pipe string, b Backend) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if err := servePipeConn(c, pipe, b); err != nil {
					t.Errorf("serving %s: %v", pipe, err)
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func servePipeConn(c net.Conn, pipe string, b Backend) error {
	p, err := NewPipe(pipe, "", b)
	if err != nil {
		return err
	}
	defer p.Close()
	buf := make([]byte, 8192)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if _, err := p.Write(buf[:n]); err != nil {
			return err
		}
		for {
			msg, err := p.Read(1 << 16)
			if errors.Is(err, ErrNoData) {
				break
			}
			if err != nil {
				return err
			}
			if _, err := c.Write(msg); err != nil {
				return err
			}
		}
	}
}

// TestSambaClientOverTCP runs Samba's DCE/RPC client (python3-samba) against
// a Pipe: its real BIND (with bind time feature negotiation), requests and
// reassembly of fragmented answers, little- and big-endian.
func TestSambaClientOverTCP(t *testing.T) {
	py := sambaPython(t)
	b := interopBackend()
	for _, opts := range []string{"", "bigendian"} {
		t.Run("opts="+opts, func(t *testing.T) {
			port := serveTCP(t, "srvsvc", b)
			cmd := exec.Command(py, "testdata/srvsvc_ndr.py", "client", fmt.Sprint(port), opts)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("samba client: %v\n%s", err, stderr.String())
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			var names []any
			for _, s := range b.shares {
				names = append(names, s.Name)
			}
			for _, lvl := range []int{0, 1, 2, 502} {
				want := map[string]any{"count": float64(len(names)), "names": names, "total": float64(len(names))}
				if g := got[fmt.Sprint("enum.", lvl)]; !reflect.DeepEqual(g, want) {
					t.Errorf("enum level %d: %v, want %v", lvl, g, want)
				}
			}
			ipc := map[string]any{"name": "IPC$", "type": float64(ShareTypeIPCHidden), "comment": b.shares[1].Comment}
			if g := got["get.IPC$.1"]; !reflect.DeepEqual(g, ipc) {
				t.Errorf("get IPC$: %v, want %v", g, ipc)
			}
			if g := got["get.nosuch.1"]; g != float64(werrNetNameNotFound) {
				t.Errorf("get nosuch: %v, want WERROR %d", g, werrNetNameNotFound)
			}
			srv, _ := got["srv.101"].(map[string]any)
			if srv["server_name"] != b.server.Name || srv["comment"] != b.server.Comment {
				t.Errorf("server info 101: %v", srv)
			}
		})
	}
}
