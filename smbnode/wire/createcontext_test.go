package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// TestCapturedCreateContexts decodes every create context smbtorture sent
// or Samba answered with the typed helpers and re-encodes it.
func TestCapturedCreateContexts(t *testing.T) {
	seen := map[string]int{}
	for _, file := range captureFiles {
		for _, m := range loadCapture(t, file) {
			h, _ := ParseHeader(m.msg)
			if h.Command != CommandCreate {
				continue
			}
			var ctxs []CreateContext
			if m.fromClient {
				r, err := ParseCreateRequest(m.msg)
				if err != nil {
					continue // refused by Samba too (TestCapturedRequestsParse)
				}
				ctxs = r.Contexts
			} else if h.Status == StatusSuccess {
				if co, cl := le32(m.msg, 64+80), le32(m.msg, 64+84); cl > 0 {
					var err error
					if ctxs, err = ParseCreateContexts(m.msg[co : co+cl]); err != nil {
						t.Fatalf("line %d: %v", m.line, err)
					}
				}
			}
			for _, c := range ctxs {
				dir := "resp"
				if m.fromClient {
					dir = "req"
				}
				seen[dir+" "+c.Name]++
				checkContext(t, m.line, m.fromClient, c)
			}
		}
	}
	for _, k := range []string{"req RqLs", "req DH2Q", "req DHnQ", "req DHnC", "req ExtA", "req MxAc",
		"req AlSi", "req TWrp", "resp RqLs", "resp DH2Q", "resp DHnQ", "resp MxAc"} {
		if seen[k] == 0 {
			t.Errorf("capture holds no %s context", k)
		}
	}
}

func checkContext(t *testing.T, line int, req bool, c CreateContext) {
	t.Helper()
	var got []byte
	switch {
	case c.Name == CreateContextRequestLease:
		l, err := ParseLease(c.Data)
		if err != nil {
			t.Errorf("line %d: %v", line, err)
			return
		}
		got = l.Append(nil)
	case c.Name == CreateContextDurableHandleRequestV2 && req:
		d, err := ParseDurableHandleRequestV2(c.Data)
		if err != nil {
			t.Errorf("line %d: %v", line, err)
			return
		}
		got = d.Append(nil)
	case c.Name == CreateContextDurableHandleRequestV2:
		got = (&DurableHandleResponseV2{Timeout: le32(c.Data, 0), Flags: le32(c.Data, 4)}).Append(nil)
	case c.Name == CreateContextDurableHandleRequest && req:
		if err := ParseDurableHandleRequest(c.Data); err != nil {
			t.Errorf("line %d: %v", line, err)
		}
		return
	case c.Name == CreateContextDurableHandleRequest:
		got = AppendDurableHandleResponse(nil)
	case c.Name == CreateContextDurableHandleReconnect:
		id, err := ParseDurableHandleReconnect(c.Data)
		if err != nil {
			t.Errorf("line %d: %v", line, err)
			return
		}
		got = id.Append(nil)
	case c.Name == CreateContextQueryMaximalAccess && req:
		if _, err := ParseMaximalAccessRequest(c.Data); err != nil {
			t.Errorf("line %d: %v", line, err)
		}
		return
	case c.Name == CreateContextQueryMaximalAccess:
		got = (&MaximalAccessResponse{QueryStatus: Status(le32(c.Data, 0)), MaximalAccess: le32(c.Data, 4)}).Append(nil)
	case c.Name == CreateContextAllocationSize:
		v, err := ParseAllocationSize(c.Data)
		if err != nil {
			t.Errorf("line %d: %v", line, err)
			return
		}
		got = app64(nil, v)
	case c.Name == CreateContextTimewarpToken:
		v, err := ParseTimewarpToken(c.Data)
		if err != nil {
			t.Errorf("line %d: %v", line, err)
			return
		}
		got = app64(nil, v)
	case c.Name == CreateContextEABuffer:
		eas, err := ParseFullEAList(c.Data)
		if err != nil {
			t.Errorf("line %d: %v", line, err)
			return
		}
		got = AppendFullEAList(nil, eas)
		// The last entry's tail padding is the sender's choice.
		if len(got) < len(c.Data) && bytes.Equal(c.Data[len(got):], make([]byte, len(c.Data)-len(got))) {
			got = append(got, make([]byte, len(c.Data)-len(got))...)
		}
	default:
		return
	}
	if !bytes.Equal(got, c.Data) {
		t.Errorf("line %d %q: re-encoded\n got %x\nwant %x", line, c.Name, got, c.Data)
	}
}

func TestCreateContextsRoundTrip(t *testing.T) {
	lease2 := &Lease{Version: 2, LeaseKey: [16]byte{1, 2, 3}, LeaseState: LeaseReadCaching | LeaseHandleCaching,
		LeaseFlags: LeaseFlagParentLeaseKeySet, LeaseDuration: 0, ParentLeaseKey: [16]byte{9}, Epoch: 3}
	ctxs := []CreateContext{
		{Name: CreateContextQueryMaximalAccess},
		{Name: CreateContextRequestLease, Data: lease2.Append(nil)},
		{Name: CreateContextAppInstanceID, Data: append(app32(nil, 20), make([]byte, 16)...)},
		{Name: CreateContextQueryOnDiskID, Data: (&QueryOnDiskIDResponse{DiskFileID: 5, VolumeID: 6}).Append(nil)},
	}
	// Start misaligned by 3 to check alignment is relative to the chain.
	b := AppendCreateContexts(make([]byte, 3), ctxs)[3:]
	got, err := ParseCreateContexts(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ctxs) {
		t.Fatalf("got %d contexts", len(got))
	}
	for i := range ctxs {
		if got[i].Name != ctxs[i].Name || !bytes.Equal(got[i].Data, ctxs[i].Data) {
			t.Errorf("context %d: got %q %x, want %q %x", i, got[i].Name, got[i].Data, ctxs[i].Name, ctxs[i].Data)
		}
	}
	for off := 0; ; {
		n := int(le32(b, off))
		if n == 0 {
			break
		}
		if n%8 != 0 {
			t.Errorf("Next %d not aligned", n)
		}
		if do := int(le16(b, off+10)); do != 0 && do%8 != 0 {
			t.Errorf("DataOffset %d not aligned", do)
		}
		off += n
	}
	l, err := ParseLease(got[1].Data)
	if err != nil || !reflect.DeepEqual(l, lease2) {
		t.Errorf("lease v2: %+v %v", l, err)
	}
	if id, err := ParseAppInstanceID(got[2].Data); err != nil || id != [16]byte{} {
		t.Errorf("app instance id: %v %v", id, err)
	}
}

func TestCreateContextsMalformed(t *testing.T) {
	good := AppendCreateContexts(nil, []CreateContext{{Name: "MxAc"}, {Name: "QFid", Data: []byte{1, 2}}})
	tests := []struct {
		name string
		mod  func(b []byte) []byte
	}{
		{"short header", func(b []byte) []byte { return b[:15] }},
		{"Next misaligned", func(b []byte) []byte { putLE32(b, 0, 17); return b }},
		{"Next past end", func(b []byte) []byte { putLE32(b, 0, 0x1000); return b }},
		{"Next inside header", func(b []byte) []byte { putLE32(b, 0, 8); return b }},
		{"name length zero", func(b []byte) []byte { putLE16(b, 6, 0); return b }},
		{"name past context", func(b []byte) []byte { putLE16(b, 6, 40); return b }},
		{"name inside header", func(b []byte) []byte { putLE16(b, 4, 2); return b }},
		{"data past end", func(b []byte) []byte { putLE32(b, 24+12, 0xFFFFFFFF); return b }},
		{"truncated second", func(b []byte) []byte { return b[:len(b)-1] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mod(append([]byte(nil), good...))
			if _, err := ParseCreateContexts(b); !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := ParseCreateContexts(good); err != nil {
		t.Fatalf("good chain: %v", err)
	}
	for _, n := range []int{0, 31, 33, 51, 53} {
		if _, err := ParseLease(make([]byte, n)); !errors.Is(err, ErrMalformed) {
			t.Errorf("lease of %d bytes: %v", n, err)
		}
	}
}
