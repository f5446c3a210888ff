package dcerpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestIsKnownPipe(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"srvsvc", true}, {"SRVSVC", true}, {`\PIPE\srvsvc`, true}, {`\pipe\SrvSvc`, true},
		{`PIPE\srvsvc`, true}, {"wkssvc", true}, {`\PIPE\wkssvc`, true},
		{"samr", false}, {"lsarpc", false}, {"", false}, {`\PIPE\`, false}, {"srvsvc2", false},
		{`\PIPE\PIPE\srvsvc`, false}, {"srvsvc ", false},
	}
	for _, tt := range tests {
		if got := IsKnownPipe(tt.name); got != tt.want {
			t.Errorf("IsKnownPipe(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNewPipeErrors(t *testing.T) {
	if _, err := NewPipe("samr", "alice", sambaLikeBackend()); !errors.Is(err, ErrUnknownPipe) {
		t.Errorf("NewPipe(samr): %v, want ErrUnknownPipe", err)
	}
	if _, err := NewPipe("srvsvc", "alice", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NewPipe(nil backend): %v, want ErrInvalidArgument", err)
	}
}

func TestPipeStreaming(t *testing.T) {
	bind := buildBind(ptypeBind, 1, maxFragSize, []presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}})
	req := buildRequest(2, 0, opNetrShareGetInfo, shareGetInfoStub("data", 1), 1024)[0]

	t.Run("PDU split across writes", func(t *testing.T) {
		p := newTestPipe(t, "srvsvc", sambaLikeBackend())
		all := append(clone(bind), req...)
		for i := range all {
			if n, err := p.Write(all[i : i+1]); n != 1 || err != nil {
				t.Fatalf("Write byte %d: %d, %v", i, n, err)
			}
			if i == hdrLen {
				if _, err := p.Read(100); !errors.Is(err, ErrNoData) {
					t.Fatalf("Read mid-PDU: %v, want ErrNoData", err)
				}
			}
		}
		if r := parseServerPDU(t, mustRead(t, p)); r.h.ptype != ptypeBindAck {
			t.Fatalf("first answer ptype %d", r.h.ptype)
		}
		if r := parseServerPDU(t, mustRead(t, p)); r.h.ptype != ptypeResponse {
			t.Fatalf("second answer ptype %d", r.h.ptype)
		}
	})

	t.Run("two PDUs in one write", func(t *testing.T) {
		p := newTestPipe(t, "srvsvc", sambaLikeBackend())
		if _, err := p.Write(append(clone(bind), req...)); err != nil {
			t.Fatal(err)
		}
		if r := parseServerPDU(t, mustRead(t, p)); r.h.ptype != ptypeBindAck {
			t.Fatalf("first answer ptype %d", r.h.ptype)
		}
		if r := parseServerPDU(t, mustRead(t, p)); r.h.ptype != ptypeResponse {
			t.Fatalf("second answer ptype %d", r.h.ptype)
		}
	})

	t.Run("short reads", func(t *testing.T) {
		p := newTestPipe(t, "srvsvc", sambaLikeBackend())
		out, more, err := p.Transceive(bind, 10)
		if err != nil || !more || len(out) != 10 {
			t.Fatalf("Transceive(max 10): %d bytes, more %v, %v", len(out), more, err)
		}
		if _, _, err := p.Transceive(req, 100); !errors.Is(err, ErrBusy) {
			t.Fatalf("Transceive with unread data: %v, want ErrBusy", err)
		}
		rest, err := p.Read(7)
		if !errors.Is(err, ErrMoreData) || len(rest) != 7 {
			t.Fatalf("Read(7): %d bytes, %v, want 7 and ErrMoreData", len(rest), err)
		}
		out = append(out, rest...)
		rest, err = p.Read(1000)
		if err != nil {
			t.Fatalf("Read rest: %v", err)
		}
		out = append(out, rest...)
		if r := parseServerPDU(t, out); r.h.ptype != ptypeBindAck {
			t.Fatalf("reassembled ptype %d", r.h.ptype)
		}
		if _, err := p.Read(1000); !errors.Is(err, ErrNoData) {
			t.Fatalf("Read on empty pipe: %v, want ErrNoData", err)
		}
		if _, err := p.Read(0); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("Read(0): %v", err)
		}
	})

	t.Run("malformed header breaks the pipe", func(t *testing.T) {
		p := newTestPipe(t, "srvsvc", sambaLikeBackend())
		bad := clone(bind)
		bad[hdrOffVers] = 4
		if _, err := p.Write(bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Write(rpc_vers 4): %v, want ErrMalformed", err)
		}
		if _, err := p.Write(bind); !errors.Is(err, ErrBroken) {
			t.Fatalf("Write after break: %v, want ErrBroken", err)
		}
		if _, err := p.Read(100); !errors.Is(err, ErrBroken) {
			t.Fatalf("Read after break: %v, want ErrBroken", err)
		}
		p2 := newTestPipe(t, "srvsvc", sambaLikeBackend())
		short := clone(bind)
		short[hdrOffFragLength], short[hdrOffFragLength+1] = 8, 0
		if _, _, err := p2.Transceive(short, 100); !errors.Is(err, ErrMalformed) {
			t.Fatalf("frag_length 8: %v, want ErrMalformed", err)
		}
	})

	t.Run("close", func(t *testing.T) {
		p, err := NewPipe("srvsvc", "alice", sambaLikeBackend())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Write(bind); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := p.Read(100); !errors.Is(err, ErrClosed) {
			t.Fatalf("Read after Close: %v", err)
		}
		if _, err := p.Write(req); !errors.Is(err, ErrClosed) {
			t.Fatalf("Write after Close: %v", err)
		}
		if _, _, err := p.Transceive(req, 100); !errors.Is(err, ErrClosed) {
			t.Fatalf("Transceive after Close: %v", err)
		}
	})
}

// TestBackendSeesUser checks that shares are asked for the pipe's user.
func TestBackendSeesUser(t *testing.T) {
	b := sambaLikeBackend()
	p, err := NewPipe("srvsvc", "bob", b)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	roundTrip(t, p, buildBind(ptypeBind, 1, maxFragSize, []presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}}))
	roundTrip(t, p, buildRequest(2, 0, opNetrShareGetInfo, shareGetInfoStub("data", 1), 1024)[0])
	if len(b.users) != 1 || b.users[0] != "bob" {
		t.Fatalf("Backend.Shares called for %q, want [bob]", b.users)
	}
}

// TestPipeConcurrent runs several pipes, and several goroutines on one
// pipe, at once (meaningful under -race).
func TestPipeConcurrent(t *testing.T) {
	b := interopBackend()
	shared := boundPipe(t, b, maxFragSize)
	want := parseServerPDU(t, roundTrip(t, shared, buildRequest(2, 0, opNetrShareGetInfo, shareGetInfoStub("proj07", 2), 4000)[0])).stub
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := NewPipe("srvsvc", fmt.Sprint("user", g), b)
			if err != nil {
				errs <- err
				return
			}
			defer p.Close()
			bind := buildBind(ptypeBind, 1, maxFragSize, []presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}})
			if _, _, err := p.Transceive(bind, maxFragSize); err != nil {
				errs <- err
				return
			}
			for i := range 20 {
				out, _, err := p.Transceive(buildRequest(uint32(10+i), 0, opNetrShareGetInfo, shareGetInfoStub("proj07", 2), 4000)[0], maxFragSize)
				if err != nil {
					errs <- err
					return
				}
				if len(out) < respOffStub || !bytes.Equal(out[respOffStub:], want) {
					errs <- fmt.Errorf("goroutine %d call %d: wrong answer", g, i)
					return
				}
				// Racing readers and writers on the shared pipe.
				if _, err := shared.Write(buildRequest(uint32(1000+i), 0, opNetrShareGetInfo, shareGetInfoStub("data", 0), 4000)[0]); err != nil {
					errs <- err
					return
				}
				if _, err := shared.Read(maxFragSize); err != nil && !errors.Is(err, ErrNoData) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestFlowControl checks that a client cannot make the pipe buffer
// unbounded answers: PDUs beyond maxPendingOut of unread answers wait, and
// run as the client reads.
func TestFlowControl(t *testing.T) {
	p := boundPipe(t, interopBackend(), maxFragSize)
	w := newNDRWriter(nil)
	w.pointer(false)
	w.uint32(502)
	w.uint32(502)
	w.pointer(true)
	w.uint32(0)
	w.pointer(false)
	w.uint32(0xffffffff)
	w.pointer(false)
	const calls = 300
	var in []byte
	for i := range calls {
		in = append(in, buildRequest(uint32(100+i), 0, opNetrShareEnum, w.b, 4000)[0]...)
	}
	if _, err := p.Write(in); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	queued, waiting := p.outBytes, len(p.in)
	p.mu.Unlock()
	if queued > maxPendingOut+64*1024 || waiting == 0 {
		t.Fatalf("after one write: %d bytes queued, %d bytes waiting; flow control did not hold back", queued, waiting)
	}
	for i := range calls {
		if _, n := readResponse(t, p, uint32(100+i)); n < 2 {
			t.Fatalf("call %d: %d fragments", i, n)
		}
	}
	if _, err := p.Read(100); !errors.Is(err, ErrNoData) {
		t.Fatalf("after all answers: %v", err)
	}
	if _, err := p.Write(make([]byte, maxPendingIn+1)); !errors.Is(err, ErrBusy) {
		t.Fatalf("oversized write: %v, want ErrBusy", err)
	}
}

func TestReadContext(t *testing.T) {
	p := newTestPipe(t, "srvsvc", sambaLikeBackend())
	bind := buildBind(ptypeBind, 1, maxFragSize, []presContext{{id: 0, abstract: syntaxSrvsvc, transfer: []syntaxID{syntaxNDR32}}})

	// Cancelled while waiting.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.ReadContext(ctx, 100)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ReadContext: %v", err)
	}

	// Woken by a write from another goroutine.
	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		b, err := p.ReadContext(context.Background(), 1000)
		got <- result{b, err}
	}()
	if _, err := p.Write(bind); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || parseServerPDU(t, r.b).h.ptype != ptypeBindAck {
		t.Fatalf("ReadContext after Write: %x, %v", r.b, r.err)
	}

	// Woken by Close.
	go func() {
		_, err := p.ReadContext(context.Background(), 1000)
		done <- err
	}()
	p.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("ReadContext on closed pipe: %v", err)
	}
}
