package cluster

import (
	"encoding/binary"
	"testing"

	"shoal/smbnode/wire"
)

func breakMsg(body []byte) []byte {
	h := wire.Header{Command: wire.CommandOplockBreak, MessageID: ^uint64(0), Flags: wire.FlagResponse}
	return append(h.Append(nil), body...)
}

func TestParseBreak(t *testing.T) {
	oplock := (&wire.OplockBreak{OplockLevel: 1, FileID: wire.FileID{Persistent: 7, Volatile: 9}}).Append(nil)
	key := [16]byte{1, 2, 3}
	lease := (&wire.LeaseBreakNotification{NewEpoch: 3, Flags: wire.LeaseBreakFlagAckRequired, LeaseKey: key,
		CurrentLeaseState: 7, NewLeaseState: 3}).Append(nil)
	bad := binary.LittleEndian.AppendUint16(nil, 36)
	tests := []struct {
		name string
		body []byte
		want Break
		ok   bool
	}{
		{"oplock", oplock, Break{OplockLevel: 1, FileID: wire.FileID{Persistent: 7, Volatile: 9}}, true},
		{"lease", lease, Break{Lease: true, Epoch: 3, Flags: 1, LeaseKey: key, Current: 7, New: 3}, true},
		{"short oplock", oplock[:20], Break{}, false},
		{"short lease", lease[:40], Break{}, false},
		{"other size", append(bad, make([]byte, 40)...), Break{}, false},
		{"empty", nil, Break{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBreak(breakMsg(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			got.At = tc.want.At
			if tc.ok && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseBreak(f *testing.F) {
	f.Add((&wire.OplockBreak{OplockLevel: 1}).Append(nil))
	f.Add((&wire.LeaseBreakNotification{NewLeaseState: 1}).Append(nil))
	f.Add([]byte{44, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		parseBreak(breakMsg(body)) // must not panic
	})
}
