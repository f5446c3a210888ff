package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestFrameVector(t *testing.T) {
	f := Frame{Type: TypeReply, ID: 0x0102030405060708, Kind: 9, Gen: 42, Err: 3, ErrText: "no", Body: []byte{0xAA, 0xBB}}
	got := hex.EncodeToString(f.Append(nil))
	want := "02" + "0102030405060708" + "09" + "000000000000002a" + "0003" + "0002" + "6e6f" + "00000002" + "aabb"
	if got != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
}

func TestFrameRoundTrip(t *testing.T) {
	cases := []Frame{
		{Type: TypeRequest, ID: 1, Kind: 1, Gen: 1},
		{Type: TypeReply, ID: 1 << 63, Kind: 255, Gen: ^uint64(0), Err: 65535, ErrText: "stale", Body: []byte("{}")},
		{Type: TypeCancel, ID: 7},
	}
	for _, c := range cases {
		b := c.Append([]byte("prefix"))
		got, err := Parse(b[len("prefix"):])
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got.Type != c.Type || got.ID != c.ID || got.Kind != c.Kind || got.Gen != c.Gen ||
			got.Err != c.Err || got.ErrText != c.ErrText || !bytes.Equal(got.Body, c.Body) {
			t.Fatalf("round trip: got %+v want %+v", got, c)
		}
	}
}

func TestParseRejects(t *testing.T) {
	good := (&Frame{Type: TypeRequest, ID: 1, ErrText: "x", Body: []byte("abc")}).Append(nil)
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"header only", good[:headerSize], ErrShort},
		{"cut body", good[:len(good)-1], ErrShort},
		{"trailing", append(append([]byte{}, good...), 0), ErrTrailing},
		{"type 0", append([]byte{0}, good[1:]...), ErrType},
		{"type 5", append([]byte{5}, good[1:]...), ErrType},
		{"lying errlen", func() []byte { b := append([]byte{}, good...); b[offErrLen] = 0xFF; return b }(), ErrTooLarge},
		{"lying bodylen", func() []byte {
			b := append([]byte{}, good...)
			b[headerSize+1] = 0x7F
			return b
		}(), ErrTooLarge},
	}
	for _, c := range cases {
		if _, err := Parse(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v want %v", c.name, err, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add((&Frame{Type: TypeRequest, ID: 1, Kind: 2, Gen: 3, Body: []byte("{}")}).Append(nil))
	f.Add((&Frame{Type: TypeReply, Err: 1, ErrText: "e"}).Append(nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Parse(b)
		if err != nil {
			return
		}
		again := fr.Append(nil)
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}
