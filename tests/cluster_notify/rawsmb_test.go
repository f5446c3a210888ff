package clusternotify

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"
	"unicode/utf16"

	"shoal/smbnode/wire"
	"shoal/tests/cluster"
)

// rawClient is the SMB 2.1 wire client of tests/cluster (NTLMv2, signed)
// with what these tests need: directory opens, a CHANGE_NOTIFY held while
// other nodes make changes, and Explorer's way of removing a directory.
type rawClient struct{ c *cluster.Client }

const rawTimeout = 30 * time.Second

func dialRaw(t *testing.T, addr, user, pass, share string) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rawTimeout)
	defer cancel()
	c, err := cluster.Dial(ctx, addr, user, pass, share)
	if err != nil {
		t.Fatalf("raw SMB client for %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{c: c}
}

// create opens name as a directory with access and options, sharing
// everything.
func (r *rawClient) create(name string, access, options uint32) (wire.FileID, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rawTimeout)
	defer cancel()
	o, err := r.c.Create(ctx, cluster.CreateReq{
		Name: name, Access: access, Share: cluster.ShareAll,
		Disposition: cluster.DispositionOpen, Options: cluster.OptionDirectory | options,
	})
	if err == nil && o.Status != 0 {
		err = o.Status
	}
	if err != nil {
		return wire.FileID{}, fmt.Errorf("create %s: %w", name, err)
	}
	return o.FileID, nil
}

// openDir opens the directory name for listing.
func (r *rawClient) openDir(name string) (wire.FileID, error) {
	return r.create(name, wire.FileListDirectory|0x80|0x00100000, 0) // + READ_ATTRIBUTES, SYNCHRONIZE
}

// rmdir deletes the directory name the way Windows Explorer does when
// others hold it open: an open for DELETE with delete-on-close, sharing
// everything, then its close.
func (r *rawClient) rmdir(name string) error {
	id, err := r.create(name, 0x00010000|0x80, cluster.OptionDeleteOnClose) // DELETE, READ_ATTRIBUTES
	if err != nil {
		return err
	}
	return r.close(id)
}

// close closes a handle.
func (r *rawClient) close(id wire.FileID) error {
	ctx, cancel := context.WithTimeout(context.Background(), rawTimeout)
	defer cancel()
	st, err := r.c.CloseFile(ctx, id)
	if err == nil && st != 0 {
		err = fmt.Errorf("close: %v", st)
	}
	return err
}

// sendNotify sends CHANGE_NOTIFY; notifyResult reads its answer.
func (r *rawClient) sendNotify(id wire.FileID, filter uint32, tree bool) (*cluster.Call, error) {
	req := &wire.ChangeNotifyRequest{OutputBufferLength: 4096, FileID: id, CompletionFilter: filter}
	if tree {
		req.Flags = wire.WatchTree
	}
	return r.c.Send(wire.CommandChangeNotify, req.Append)
}

// notify sends CHANGE_NOTIFY and waits for its interim response (the
// server then holds the watch).
func (r *rawClient) notify(id wire.FileID, filter uint32, tree bool) (*cluster.Call, error) {
	call, err := r.sendNotify(id, filter, tree)
	if err != nil {
		return nil, err
	}
	select {
	case <-call.Interim:
		return call, nil
	case <-time.After(10 * time.Second):
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if resp, err := r.c.Wait(ctx, call); err == nil {
			return nil, fmt.Errorf("CHANGE_NOTIFY answered at once: %v", resp.Header.Status)
		}
		return nil, fmt.Errorf("no interim answer to CHANGE_NOTIFY")
	}
}

// change is one FILE_NOTIFY_INFORMATION entry.
type change struct {
	Action uint32
	Name   string
}

func (c change) String() string { return fmt.Sprintf("%d:%s", c.Action, c.Name) }

// notifyResult waits for the answer to a CHANGE_NOTIFY.
func (r *rawClient) notifyResult(call *cluster.Call, timeout time.Duration) (wire.Status, []change, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := r.c.Wait(ctx, call)
	if err != nil {
		return 0, nil, err
	}
	if resp.Header.Status != 0 {
		return resp.Header.Status, nil, nil
	}
	m := resp.Msg
	b := resp.Body()
	if len(b) < 8 {
		return 0, nil, fmt.Errorf("short CHANGE_NOTIFY response")
	}
	off, n := int(binary.LittleEndian.Uint16(b[2:])), int(binary.LittleEndian.Uint32(b[4:]))
	if off < wire.HeaderSize || off+n > len(m) {
		return 0, nil, fmt.Errorf("CHANGE_NOTIFY buffer out of bounds")
	}
	buf := m[off : off+n]
	var out []change
	for len(buf) > 0 {
		if len(buf) < 12 {
			return 0, nil, fmt.Errorf("short FILE_NOTIFY_INFORMATION")
		}
		next := binary.LittleEndian.Uint32(buf)
		action := binary.LittleEndian.Uint32(buf[4:])
		nl := int(binary.LittleEndian.Uint32(buf[8:]))
		if 12+nl > len(buf) || nl%2 != 0 {
			return 0, nil, fmt.Errorf("FILE_NOTIFY_INFORMATION name out of bounds")
		}
		u := make([]uint16, nl/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(buf[12+2*i:])
		}
		out = append(out, change{action, string(utf16.Decode(u))})
		if next == 0 {
			break
		}
		if int(next) > len(buf) {
			return 0, nil, fmt.Errorf("NextEntryOffset out of bounds")
		}
		buf = buf[next:]
	}
	return 0, out, nil
}
