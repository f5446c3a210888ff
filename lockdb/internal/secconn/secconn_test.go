package secconn

import (
	"bytes"
	"errors"
	"net"
	"testing"
)

func pair(t *testing.T, kc, ks []byte) (*Conn, *Conn, error, error) {
	t.Helper()
	a, b := net.Pipe()
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := Server(b, ks, Identity{"srv", 2})
		ch <- res{c, err}
	}()
	cc, cerr := Client(a, kc, Identity{"cli", 1})
	r := <-ch
	return cc, r.c, cerr, r.err
}

func TestHandshakeAndRecords(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	c, s, cerr, serr := pair(t, key, key)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: %v %v", cerr, serr)
	}
	defer c.Close()
	defer s.Close()
	if c.Peer() != (Identity{"srv", 2}) || s.Peer() != (Identity{"cli", 1}) {
		t.Fatalf("identities %+v %+v", c.Peer(), s.Peer())
	}
	for _, msg := range [][]byte{[]byte("hello"), {}, bytes.Repeat([]byte{1}, 100000)} {
		go c.WriteRecord(msg)
		got, err := s.ReadRecord()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("record: %v", err)
		}
		go s.WriteRecord(msg)
		got, err = c.ReadRecord()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("record back: %v", err)
		}
	}
}

func TestWrongKey(t *testing.T) {
	k1 := bytes.Repeat([]byte{1}, 32)
	k2 := bytes.Repeat([]byte{2}, 32)
	for _, tc := range []struct {
		name   string
		kc, ks []byte
	}{{"client lacks key", k2, k1}, {"server lacks key", k1, k2}} {
		_, _, cerr, serr := pair(t, tc.kc, tc.ks)
		if cerr == nil || serr == nil {
			t.Fatalf("%s: handshake succeeded: %v %v", tc.name, cerr, serr)
		}
		if !errors.Is(cerr, ErrAuth) && !errors.Is(serr, ErrAuth) {
			t.Fatalf("%s: no ErrAuth: %v %v", tc.name, cerr, serr)
		}
	}
}

func TestTamperedRecord(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	a, b := net.Pipe()
	ch := make(chan *Conn, 1)
	go func() { s, _ := Server(b, key, Identity{"srv", 1}); ch <- s }()
	c, err := Client(&flipper{Conn: a}, key, Identity{"cli", 1})
	if err != nil {
		t.Fatal(err)
	}
	s := <-ch
	defer c.Close()
	defer s.Close()
	go func() { c.nc.(*flipper).flip = true; c.WriteRecord([]byte("payload")) }()
	if _, err := s.ReadRecord(); !errors.Is(err, ErrRecord) {
		t.Fatalf("tampered record accepted: %v", err)
	}
}

type flipper struct {
	net.Conn
	flip bool
}

func (f *flipper) Write(p []byte) (int, error) {
	if f.flip && len(p) > 6 {
		q := append([]byte{}, p...)
		q[len(q)-1] ^= 1
		return f.Conn.Write(q)
	}
	return f.Conn.Write(p)
}

func FuzzParseHello(f *testing.F) {
	f.Add(encodeHello(make([]byte, nonceSize), Identity{"n", 1}))
	f.Add([]byte("SHOAL1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		nonce, id, err := parseHello(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeHello(nonce, id), b) {
			t.Fatal("re-encoding differs")
		}
	})
}
