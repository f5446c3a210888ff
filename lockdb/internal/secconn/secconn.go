package secconn

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// MaxRecord bounds the plaintext of one record.
const MaxRecord = 64<<20 + 4096

const (
	magic        = "SHOAL1"
	nonceSize    = 32
	helloFixed   = len(magic) + nonceSize + 8
	maxHello     = helloFixed + 255
	macSize      = sha256.Size
	handshakeTTL = 5 * time.Second
)

// Identity names one node process.
type Identity struct {
	Name        string
	Incarnation uint64
}

// Conn is an authenticated, encrypted connection. WriteRecord and
// ReadRecord may be used by one writer and one reader concurrently; each of
// them must not be called concurrently with itself.
type Conn struct {
	nc       net.Conn
	br       *bufio.Reader
	peer     Identity
	seal     cipher.AEAD
	open     cipher.AEAD
	sendSeq  uint64
	recvSeq  uint64
	wbuf     []byte
	rbuf     []byte
	nonceBuf [12]byte
}

// Peer is the authenticated identity of the other side.
func (c *Conn) Peer() Identity { return c.peer }

// NetConn is the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the underlying connection.
func (c *Conn) Close() error { return c.nc.Close() }

func encodeHello(nonce []byte, id Identity) []byte {
	b := make([]byte, 0, helloFixed+len(id.Name))
	b = append(b, magic...)
	b = append(b, nonce...)
	b = binary.BigEndian.AppendUint64(b, id.Incarnation)
	return append(b, id.Name...)
}

func parseHello(b []byte) (nonce []byte, id Identity, err error) {
	if len(b) < helloFixed || len(b) > maxHello || string(b[:len(magic)]) != magic {
		return nil, id, fmt.Errorf("%w: hello of %d bytes", ErrHandshake, len(b))
	}
	nonce = b[len(magic) : len(magic)+nonceSize]
	id.Incarnation = binary.BigEndian.Uint64(b[len(magic)+nonceSize:])
	id.Name = string(b[helloFixed:])
	if id.Name == "" {
		return nil, id, fmt.Errorf("%w: empty node name", ErrHandshake)
	}
	return nonce, id, nil
}

func writeMsg(w io.Writer, p []byte) error {
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(p)), uint16(len(p)))
	_, err := w.Write(append(b, p...))
	return err
}

func readMsg(r io.Reader, max int) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n > max {
		return nil, fmt.Errorf("%w: message of %d bytes", ErrHandshake, n)
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return p, err
}

func mac(key []byte, label string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(label))
	for _, p := range parts {
		binary.Write(h, binary.BigEndian, uint32(len(p)))
		h.Write(p)
	}
	return h.Sum(nil)
}

func newAEAD(key []byte, salt []byte, info string) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, key, salt, info, 32)
	if err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

func finish(nc net.Conn, br *bufio.Reader, key, nonceC, nonceS []byte, peer Identity, client bool) (*Conn, error) {
	salt := append(append([]byte{}, nonceC...), nonceS...)
	c2s, err := newAEAD(key, salt, "shoal lockdb c2s")
	if err != nil {
		return nil, err
	}
	s2c, err := newAEAD(key, salt, "shoal lockdb s2c")
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, br: br, peer: peer}
	if client {
		c.seal, c.open = c2s, s2c
	} else {
		c.seal, c.open = s2c, c2s
	}
	return c, nil
}

// Client runs the handshake as the connecting side. On error nc is closed.
func Client(nc net.Conn, key []byte, self Identity) (*Conn, error) {
	c, err := client(nc, key, self)
	if err != nil {
		nc.Close()
	}
	return c, err
}

func client(nc net.Conn, key []byte, self Identity) (*Conn, error) {
	nc.SetDeadline(time.Now().Add(handshakeTTL))
	defer nc.SetDeadline(time.Time{})
	br := bufio.NewReaderSize(nc, 64<<10)
	nonceC := make([]byte, nonceSize)
	rand.Read(nonceC)
	helloC := encodeHello(nonceC, self)
	if err := writeMsg(nc, helloC); err != nil {
		return nil, err
	}
	helloS, err := readMsg(br, maxHello)
	if err != nil {
		return nil, err
	}
	nonceS, peer, err := parseHello(helloS)
	if err != nil {
		return nil, err
	}
	macS, err := readMsg(br, macSize)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(macS, mac(key, "shoal srv", helloC, helloS)) {
		return nil, ErrAuth
	}
	if err := writeMsg(nc, mac(key, "shoal cli", helloC, helloS)); err != nil {
		return nil, err
	}
	return finish(nc, br, key, nonceC, nonceS, peer, true)
}

// Server runs the handshake as the accepting side. On error nc is closed.
func Server(nc net.Conn, key []byte, self Identity) (*Conn, error) {
	c, err := server(nc, key, self)
	if err != nil {
		nc.Close()
	}
	return c, err
}

func server(nc net.Conn, key []byte, self Identity) (*Conn, error) {
	nc.SetDeadline(time.Now().Add(handshakeTTL))
	defer nc.SetDeadline(time.Time{})
	br := bufio.NewReaderSize(nc, 64<<10)
	helloC, err := readMsg(br, maxHello)
	if err != nil {
		return nil, err
	}
	nonceC, peer, err := parseHello(helloC)
	if err != nil {
		return nil, err
	}
	nonceS := make([]byte, nonceSize)
	rand.Read(nonceS)
	helloS := encodeHello(nonceS, self)
	if err := writeMsg(nc, helloS); err != nil {
		return nil, err
	}
	if err := writeMsg(nc, mac(key, "shoal srv", helloC, helloS)); err != nil {
		return nil, err
	}
	macC, err := readMsg(br, macSize)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(macC, mac(key, "shoal cli", helloC, helloS)) {
		return nil, ErrAuth
	}
	return finish(nc, br, key, nonceC, nonceS, peer, false)
}

func (c *Conn) nonce(seq uint64) []byte {
	binary.BigEndian.PutUint64(c.nonceBuf[4:], seq)
	return c.nonceBuf[:]
}

// WriteRecord encrypts p as one record and writes it.
func (c *Conn) WriteRecord(p []byte) error {
	if len(p) > MaxRecord {
		return fmt.Errorf("%w: %d bytes", ErrRecord, len(p))
	}
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], c.sendSeq)
	c.sendSeq++
	b := c.wbuf[:0]
	b = binary.BigEndian.AppendUint32(b, uint32(len(p)+c.seal.Overhead()))
	b = c.seal.Seal(b, n[:], p, nil)
	c.wbuf = b
	if cap(c.wbuf) > 1<<20 {
		c.wbuf = nil
	}
	_, err := c.nc.Write(b)
	return err
}

// ReadRecord reads and decrypts one record. The result is valid until the
// next ReadRecord.
func (c *Conn) ReadRecord() ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(c.br, l[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(l[:])
	if n < uint32(c.open.Overhead()) || n > MaxRecord+uint32(c.open.Overhead()) {
		return nil, fmt.Errorf("%w: length %d", ErrRecord, n)
	}
	if cap(c.rbuf) < int(n) {
		c.rbuf = make([]byte, n)
	}
	b := c.rbuf[:n]
	if _, err := io.ReadFull(c.br, b); err != nil {
		return nil, err
	}
	p, err := c.open.Open(b[:0], c.nonce(c.recvSeq), b, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecord, err)
	}
	c.recvSeq++
	if cap(c.rbuf) > 1<<20 {
		c.rbuf = nil
	}
	return p, nil
}
