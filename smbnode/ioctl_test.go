package smbnode

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"shoal/smbnode/vfs"
	"shoal/smbnode/wire"
	"shoal/tests/cluster"
)

// ioctlResult is the part of an IOCTL response the tests look at.
type ioctlResult struct {
	status wire.Status
	out    []byte
}

// ioctl sends one FSCTL on id.
func ioctl(t *testing.T, c *cluster.Client, id wire.FileID, code uint32, in []byte, maxOut uint32) ioctlResult {
	t.Helper()
	req := &wire.IoctlRequest{CtlCode: code, FileID: id, Input: in, MaxOutputResponse: maxOut, Flags: wire.IoctlIsFsctl}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, wire.CommandIoctl, req.Append)
	if err != nil {
		t.Fatal(err)
	}
	r := ioctlResult{status: resp.Header.Status}
	b := resp.Body()
	if len(b) < 48 || binary.LittleEndian.Uint16(b) != 49 {
		return r // an error response
	}
	off, n := int(binary.LittleEndian.Uint32(b[32:])), int(binary.LittleEndian.Uint32(b[36:]))
	if n > 0 {
		if off < wire.HeaderSize || off+n > len(resp.Msg) {
			t.Fatalf("IOCTL output at %d+%d of %d", off, n, len(resp.Msg))
		}
		r.out = resp.Msg[off : off+n]
	}
	return r
}

// openFile opens (creating) name with access.
func openFile(t *testing.T, c *cluster.Client, name string, access uint32) wire.FileID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := c.Create(ctx, cluster.CreateReq{Name: name, Access: access, Share: 7, Disposition: wire.FileOpenIf})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != 0 {
		t.Fatalf("CREATE %s: %v", name, o.Status)
	}
	return o.FileID
}

// pattern is n bytes that differ at every offset modulo 251.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// chunk is one SRV_COPYCHUNK.
func chunk(src, dst uint64, n uint32) wire.CopychunkChunk {
	return wire.CopychunkChunk{SourceOffset: src, TargetOffset: dst, Length: n}
}

// copychunkInput encodes SRV_COPYCHUNK_COPY.
func copychunkInput(key []byte, chunks ...wire.CopychunkChunk) []byte {
	b := append([]byte(nil), key...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(chunks)))
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, ch := range chunks {
		b = binary.LittleEndian.AppendUint64(b, ch.SourceOffset)
		b = binary.LittleEndian.AppendUint64(b, ch.TargetOffset)
		b = binary.LittleEndian.AppendUint32(b, ch.Length)
		b = binary.LittleEndian.AppendUint32(b, 0)
	}
	return b
}

const (
	fileAllAccess   = 0x001F01FF // FILE_ALL_ACCESS
	accessReadAttrs = 0x00000080 // FILE_READ_ATTRIBUTES
)

func TestIoctlCopychunk(t *testing.T) {
	e := newDurableEnv(t)
	c := e.dial("alice", "Alice-pw1")
	ctx := context.Background()
	src := pattern(8192)
	if err := os.WriteFile(filepath.Join(e.dir, "src"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	srcID := openFile(t, c, "src", fileAllAccess)
	rk := ioctl(t, c, srcID, wire.FsctlSrvRequestResumeKey, nil, 32)
	if rk.status != 0 || len(rk.out) != 32 {
		t.Fatalf("REQUEST_RESUME_KEY: %v, %d bytes", rk.status, len(rk.out))
	}
	key := rk.out[:24]
	tests := []struct {
		name     string
		ctl      uint32
		dstAcc   uint32
		key      []byte
		chunks   []wire.CopychunkChunk
		maxOut   uint32
		want     wire.Status
		wantResp *wire.CopychunkResponse // nil: no body expected
		wantDst  []byte                  // nil: not checked
	}{
		{name: "simple", dstAcc: fileAllAccess, chunks: []wire.CopychunkChunk{chunk(0, 0, 4096)},
			wantResp: &wire.CopychunkResponse{ChunksWritten: 1, TotalBytesWritten: 4096}, wantDst: src[:4096]},
		{name: "multi", dstAcc: fileAllAccess, chunks: []wire.CopychunkChunk{chunk(4096, 0, 4096), chunk(0, 4096, 4096)},
			wantResp: &wire.CopychunkResponse{ChunksWritten: 2, TotalBytesWritten: 8192},
			wantDst:  append(append([]byte(nil), src[4096:]...), src[:4096]...)},
		{name: "source end exceeded after one chunk", dstAcc: fileAllAccess, chunks: []wire.CopychunkChunk{chunk(0, 0, 100), chunk(8000, 100, 200)},
			want: statusInvalidViewSize, wantResp: &wire.CopychunkResponse{ChunksWritten: 1, TotalBytesWritten: 100}, wantDst: src[:100]},
		{name: "chunk too long", dstAcc: fileAllAccess, chunks: []wire.CopychunkChunk{chunk(0, 0, copychunkMaxChunkLen+1)}, want: wire.StatusInvalidParameter,
			wantResp: &wire.CopychunkResponse{ChunksWritten: 256, ChunkBytesWritten: 1 << 20, TotalBytesWritten: 16 << 20}, wantDst: []byte{}},
		{name: "zero-length chunk", dstAcc: fileAllAccess, chunks: []wire.CopychunkChunk{chunk(0, 0, 0)}, want: wire.StatusInvalidParameter,
			wantResp: &wire.CopychunkResponse{ChunksWritten: 256, ChunkBytesWritten: 1 << 20, TotalBytesWritten: 16 << 20}},
		{name: "no chunks", dstAcc: fileAllAccess, wantResp: &wire.CopychunkResponse{}, wantDst: []byte{}},
		{name: "bad key", dstAcc: fileAllAccess, key: []byte("deadbeefdeadbeefdeadbeef"), chunks: []wire.CopychunkChunk{chunk(0, 0, 10)},
			want: wire.StatusObjectNameNotFound, wantResp: &wire.CopychunkResponse{}, wantDst: []byte{}},
		{name: "output too small", dstAcc: fileAllAccess, chunks: []wire.CopychunkChunk{chunk(0, 0, 10)}, maxOut: 11, want: wire.StatusInvalidParameter},
		{name: "COPYCHUNK needs read on target", dstAcc: fileAllAccess &^ wire.FileReadData, chunks: []wire.CopychunkChunk{chunk(0, 0, 10)},
			want: wire.StatusAccessDenied, wantResp: &wire.CopychunkResponse{}},
		{name: "COPYCHUNK_WRITE does not", ctl: wire.FsctlSrvCopychunkWrite, dstAcc: fileAllAccess &^ wire.FileReadData, chunks: []wire.CopychunkChunk{chunk(0, 0, 10)},
			wantResp: &wire.CopychunkResponse{ChunksWritten: 1, TotalBytesWritten: 10}, wantDst: src[:10]},
		{name: "target needs write", dstAcc: fileAllAccess &^ (wire.FileWriteData | wire.FileAppendData), chunks: []wire.CopychunkChunk{chunk(0, 0, 10)},
			want: wire.StatusAccessDenied, wantResp: &wire.CopychunkResponse{}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "dst" + string(rune('a'+i))
			dst := openFile(t, c, name, tc.dstAcc)
			defer c.CloseFile(ctx, dst)
			k, ctl, maxOut := key, uint32(wire.FsctlSrvCopychunk), uint32(copychunkResponseSize)
			if tc.key != nil {
				k = tc.key
			}
			if tc.ctl != 0 {
				ctl = tc.ctl
			}
			if tc.maxOut != 0 {
				maxOut = tc.maxOut
			}
			r := ioctl(t, c, dst, ctl, copychunkInput(k, tc.chunks...), maxOut)
			if r.status != tc.want {
				t.Fatalf("status %v, want %v", r.status, tc.want)
			}
			if tc.wantResp == nil {
				if len(r.out) != 0 {
					t.Fatalf("%d bytes of output, want none", len(r.out))
				}
			} else {
				want := tc.wantResp.Append(nil)
				if !bytes.Equal(r.out, want) {
					t.Fatalf("response %x, want %x", r.out, want)
				}
			}
			if tc.wantDst != nil {
				got, err := os.ReadFile(filepath.Join(e.dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tc.wantDst) {
					t.Fatalf("target holds %d bytes, not the %d expected", len(got), len(tc.wantDst))
				}
			}
		})
	}

	t.Run("source read needs READ_DATA or EXECUTE", func(t *testing.T) {
		weak := openFile(t, c, "src", accessReadAttrs)
		wk := ioctl(t, c, weak, wire.FsctlSrvRequestResumeKey, nil, 32)
		if wk.status != 0 {
			t.Fatalf("REQUEST_RESUME_KEY: %v", wk.status)
		}
		dst := openFile(t, c, "dst-weak", fileAllAccess)
		r := ioctl(t, c, dst, wire.FsctlSrvCopychunk, copychunkInput(wk.out[:24], chunk(0, 0, 10)), 12)
		if r.status != wire.StatusAccessDenied {
			t.Fatalf("status %v, want ACCESS_DENIED", r.status)
		}
	})

	t.Run("byte-range locks", func(t *testing.T) {
		other := openFile(t, c, "src", fileAllAccess)
		if st, err := c.Lock(ctx, other, 0, 100, wire.LockFlagExclusiveLock|wire.LockFlagFailImmediately); err != nil || st != 0 {
			t.Fatalf("LOCK: %v %v", st, err)
		}
		dst := openFile(t, c, "dst-lock", fileAllAccess)
		r := ioctl(t, c, dst, wire.FsctlSrvCopychunk, copychunkInput(key, chunk(50, 0, 10)), 12)
		if r.status != wire.StatusFileLockConflict {
			t.Fatalf("status %v, want FILE_LOCK_CONFLICT", r.status)
		}
		if st, _ := c.Lock(ctx, other, 0, 100, wire.LockFlagUnlock); st != 0 {
			t.Fatalf("UNLOCK: %v", st)
		}
		if st, _ := c.Lock(ctx, dst, 0, 100, wire.LockFlagExclusiveLock|wire.LockFlagFailImmediately); st != 0 {
			t.Fatalf("LOCK target: %v", st)
		}
		// The target's own lock does not stop it; another open's would.
		r = ioctl(t, c, dst, wire.FsctlSrvCopychunk, copychunkInput(key, chunk(50, 0, 10)), 12)
		if r.status != 0 {
			t.Fatalf("status %v with the target's own lock", r.status)
		}
		dst2 := openFile(t, c, "dst-lock", fileAllAccess)
		r = ioctl(t, c, dst2, wire.FsctlSrvCopychunk, copychunkInput(key, chunk(50, 0, 10)), 12)
		if r.status != wire.StatusFileLockConflict {
			t.Fatalf("status %v, want FILE_LOCK_CONFLICT on the locked target", r.status)
		}
	})

	t.Run("overlapping ranges of one file", func(t *testing.T) {
		r := ioctl(t, c, srcID, wire.FsctlSrvCopychunk, copychunkInput(key, chunk(0, 100, 4096)), 12)
		if r.status != 0 {
			t.Fatalf("status %v", r.status)
		}
		got, _ := os.ReadFile(filepath.Join(e.dir, "src"))
		want := append(append(append([]byte(nil), src[:100]...), src[:4096]...), src[4196:]...)
		if !bytes.Equal(got, want) {
			t.Fatal("overlapping copy is not a read followed by a write")
		}
	})

	t.Run("closed source", func(t *testing.T) {
		tmp := openFile(t, c, "src", fileAllAccess)
		tk := ioctl(t, c, tmp, wire.FsctlSrvRequestResumeKey, nil, 32)
		if st, _ := c.CloseFile(ctx, tmp); st != 0 {
			t.Fatal(st)
		}
		dst := openFile(t, c, "dst-closed", fileAllAccess)
		r := ioctl(t, c, dst, wire.FsctlSrvCopychunk, copychunkInput(tk.out[:24], chunk(0, 0, 10)), 12)
		if r.status != wire.StatusObjectNameNotFound {
			t.Fatalf("status %v, want OBJECT_NAME_NOT_FOUND", r.status)
		}
	})

	t.Run("other session", func(t *testing.T) {
		c2 := e.dial("alice", "Alice-pw1")
		dst := openFile(t, c2, "dst-other", fileAllAccess)
		r := ioctl(t, c2, dst, wire.FsctlSrvCopychunk, copychunkInput(key, chunk(0, 0, 10)), 12)
		if r.status != wire.StatusAccessDenied {
			t.Fatalf("status %v, want ACCESS_DENIED", r.status)
		}
	})
}

func TestIoctlFileFsctls(t *testing.T) {
	e := newDurableEnv(t)
	c := e.dial("alice", "Alice-pw1")
	sh := e.srv.shares["data"].fs
	const size = 3 << 20
	if err := os.WriteFile(filepath.Join(e.dir, "f"), pattern(size), 0o644); err != nil {
		t.Fatal(err)
	}
	id := openFile(t, c, "f", fileAllAccess)
	sparse := func() bool {
		in, err := sh.Stat("f")
		if err != nil {
			t.Fatal(err)
		}
		return in.Attributes&vfs.AttrSparseFile != 0
	}
	qar := func(off, n uint64, maxOut uint32) ioctlResult {
		in := binary.LittleEndian.AppendUint64(nil, off)
		return ioctl(t, c, id, wire.FsctlQueryAllocatedRanges, binary.LittleEndian.AppendUint64(in, n), maxOut)
	}
	rangeOut := func(rs ...[2]uint64) []byte {
		var b []byte
		for _, r := range rs {
			b = binary.LittleEndian.AppendUint64(b, r[0])
			b = binary.LittleEndian.AppendUint64(b, r[1])
		}
		return b
	}

	steps := []struct {
		name string
		do   func() ioctlResult
		want wire.Status
		out  []byte
		then func() bool
	}{
		{name: "snapshots: none", want: 0, out: []byte{0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0},
			do: func() ioctlResult { return ioctl(t, c, id, wire.FsctlSrvEnumerateSnapshots, nil, 1024) }},
		{name: "compression: none", want: 0, out: []byte{0, 0},
			do: func() ioctlResult { return ioctl(t, c, id, wire.FsctlGetCompression, nil, 2) }},
		{name: "set compression none", want: 0,
			do: func() ioctlResult { return ioctl(t, c, id, wire.FsctlSetCompression, []byte{0, 0}, 0) }},
		{name: "set compression default", want: wire.StatusNotSupported,
			do: func() ioctlResult { return ioctl(t, c, id, wire.FsctlSetCompression, []byte{1, 0}, 0) }},
		{name: "reparse point", want: wire.StatusNotAReparsePoint,
			do: func() ioctlResult { return ioctl(t, c, id, wire.FsctlGetReparsePoint, nil, 1024) }},
		{name: "block cloning", want: wire.StatusNotSupported,
			do: func() ioctlResult { return ioctl(t, c, id, wire.FsctlDuplicateExtentsToFile, make([]byte, 32), 0) }},
		{name: "QAR of a non-sparse file: all", want: 0, out: rangeOut([2]uint64{1 << 20, 1 << 20}),
			do: func() ioctlResult { return qar(1<<20, 1<<20, 1024) }},
		{name: "QAR past the end: nothing", want: 0,
			do: func() ioctlResult { return qar(size, 100, 1024) }},
		{name: "QAR no room", want: wire.StatusBufferTooSmall,
			do: func() ioctlResult { return qar(0, 100, 8) }},
		{name: "QAR short input", want: wire.StatusInvalidParameter,
			do: func() ioctlResult { return ioctl(t, c, id, wire.FsctlQueryAllocatedRanges, make([]byte, 15), 1024) }},
		{name: "QAR overflow", want: wire.StatusInvalidParameter,
			do: func() ioctlResult { return qar(1, ^uint64(0), 1024) }},
		{name: "set sparse (no buffer)", want: 0, then: sparse,
			do: func() ioctlResult { return ioctl(t, c, id, wire.FsctlSetSparse, nil, 0) }},
		{name: "zero data: a hole in the middle", want: 0,
			then: func() bool {
				b, _ := os.ReadFile(filepath.Join(e.dir, "f"))
				p := pattern(size)
				return len(b) == size && bytes.Equal(b[1<<20:2<<20], make([]byte, 1<<20)) &&
					bytes.Equal(b[:1<<20], p[:1<<20]) && bytes.Equal(b[2<<20:], p[2<<20:])
			},
			do: func() ioctlResult {
				in := binary.LittleEndian.AppendUint64(nil, 1<<20)
				return ioctl(t, c, id, wire.FsctlSetZeroData, binary.LittleEndian.AppendUint64(in, 2<<20), 0)
			}},
		{name: "zero data backwards", want: wire.StatusInvalidParameter,
			do: func() ioctlResult {
				in := binary.LittleEndian.AppendUint64(nil, 10)
				return ioctl(t, c, id, wire.FsctlSetZeroData, binary.LittleEndian.AppendUint64(in, 5), 0)
			}},
		{name: "clear sparse", want: 0, then: func() bool { return !sparse() },
			do: func() ioctlResult { return ioctl(t, c, id, wire.FsctlSetSparse, []byte{0}, 0) }},
		{name: "trim", want: 0, out: []byte{1, 0, 0, 0},
			do: func() ioctlResult {
				in := binary.LittleEndian.AppendUint32(nil, 0)
				in = binary.LittleEndian.AppendUint32(in, 1)
				in = binary.LittleEndian.AppendUint64(in, 0)
				return ioctl(t, c, id, wire.FsctlFileLevelTrim, binary.LittleEndian.AppendUint64(in, 4096), 4)
			}},
		{name: "trim with a lying count", want: wire.StatusInvalidParameter,
			do: func() ioctlResult {
				in := binary.LittleEndian.AppendUint32(nil, 0)
				return ioctl(t, c, id, wire.FsctlFileLevelTrim, binary.LittleEndian.AppendUint32(in, 2), 4)
			}},
	}
	for _, s := range steps {
		r := s.do()
		if r.status != s.want {
			t.Fatalf("%s: status %v, want %v", s.name, r.status, s.want)
		}
		if s.out != nil && !bytes.Equal(r.out, s.out) {
			t.Fatalf("%s: output %x, want %x", s.name, r.out, s.out)
		}
		if s.then != nil && !s.then() {
			t.Fatalf("%s: had no effect", s.name)
		}
	}

	// A sparse file's allocated ranges come from the filesystem: the hole
	// punched above is left out where the filesystem supports holes.
	if r := ioctl(t, c, id, wire.FsctlSetSparse, []byte{1}, 0); r.status != 0 {
		t.Fatal(r.status)
	}
	r := qar(0, size, 1024)
	if r.status != 0 || len(r.out)%16 != 0 || len(r.out) == 0 {
		t.Fatalf("QAR of a sparse file: %v, %d bytes", r.status, len(r.out))
	}
	var covered uint64
	for b := r.out; len(b) > 0; b = b[16:] {
		covered += binary.LittleEndian.Uint64(b[8:])
	}
	if covered > size {
		t.Fatalf("ranges cover %d bytes of a %d-byte file", covered, size)
	}

	// A directory cannot be sparse.
	if err := os.Mkdir(filepath.Join(e.dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := c.Create(ctx, cluster.CreateReq{Name: "d", Access: fileAllAccess, Share: 7, Disposition: wire.FileOpen, Options: wire.FileDirectoryFile})
	if err != nil || d.Status != 0 {
		t.Fatalf("open directory: %v %v", d, err)
	}
	if r := ioctl(t, c, d.FileID, wire.FsctlSetSparse, nil, 0); r.status != wire.StatusInvalidParameter {
		t.Fatalf("sparse directory: %v", r.status)
	}
}

func TestCopyRange(t *testing.T) {
	dir := t.TempDir()
	data := pattern(10000)
	tests := []struct {
		name             string
		soff, doff, n    int64
		same             bool
		wantPrefixLength int64
	}{
		{name: "other file", soff: 100, doff: 0, n: 5000},
		{name: "same file apart", soff: 0, doff: 6000, n: 4000, same: true},
		{name: "same file overlapping forward", soff: 0, doff: 10, n: 5000, same: true},
		{name: "same file overlapping backward", soff: 10, doff: 0, n: 5000, same: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := filepath.Join(dir, "s")
			if err := os.WriteFile(sp, data, 0o644); err != nil {
				t.Fatal(err)
			}
			src, err := os.OpenFile(sp, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			dst := src
			want := append([]byte(nil), data...)
			if !tc.same {
				if dst, err = os.Create(filepath.Join(dir, "d")); err != nil {
					t.Fatal(err)
				}
				defer dst.Close()
				want = make([]byte, tc.doff+tc.n)
			}
			copy(want[tc.doff:], data[tc.soff:tc.soff+tc.n])
			if err := copyRange(src, dst, tc.soff, tc.doff, tc.n, tc.same); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(dst.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("copied data differs")
			}
		})
	}
}

func TestCopychunkLimits(t *testing.T) {
	many := make([]wire.CopychunkChunk, copychunkMaxChunks+1)
	for i := range many {
		many[i].Length = 1
	}
	big := make([]wire.CopychunkChunk, 17)
	for i := range big {
		big[i].Length = copychunkMaxChunkLen
	}
	tests := []struct {
		name   string
		chunks []wire.CopychunkChunk
		ok     bool
	}{
		{"none", nil, true},
		{"one", []wire.CopychunkChunk{{Length: 1}}, true},
		{"max chunk", []wire.CopychunkChunk{{Length: copychunkMaxChunkLen}}, true},
		{"chunk too long", []wire.CopychunkChunk{{Length: copychunkMaxChunkLen + 1}}, false},
		{"empty chunk", []wire.CopychunkChunk{{Length: 1}, {Length: 0}}, false},
		{"too many chunks", many, false},
		{"max chunks", many[:copychunkMaxChunks], true},
		{"too much in total", big, false},
		{"max total", big[:16], true},
	}
	for _, tc := range tests {
		err := copychunkLimits(&wire.CopychunkCopy{Chunks: tc.chunks})
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// FuzzFsctlInputs feeds arbitrary FSCTL input buffers to the parsers and
// limit checks: none may panic, and what they accept must be consistent.
func FuzzFsctlInputs(f *testing.F) {
	f.Add(copychunkInput(make([]byte, 24), chunk(0, 0, 4096), chunk(1, 2, 3)))
	f.Add(copychunkInput(make([]byte, 24)))
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		if cc, err := wire.ParseCopychunkCopy(in); err == nil {
			if 32+24*len(cc.Chunks) > len(in) {
				t.Fatalf("%d chunks from %d bytes", len(cc.Chunks), len(in))
			}
			if copychunkLimits(cc) == nil {
				var total uint64
				for _, ch := range cc.Chunks {
					if ch.Length == 0 || ch.Length > copychunkMaxChunkLen {
						t.Fatalf("chunk of %d bytes passed the limits", ch.Length)
					}
					total += uint64(ch.Length)
				}
				if len(cc.Chunks) > copychunkMaxChunks || total > copychunkMaxTotalLen {
					t.Fatal("request over the limits passed")
				}
			}
		}
		if ranges, err := parseTrimRanges(in); err == nil {
			if 8+16*len(ranges) > len(in) {
				t.Fatalf("%d ranges from %d bytes", len(ranges), len(in))
			}
			for _, rg := range ranges {
				if rg[0]+rg[1] < rg[0] {
					t.Fatalf("range %v wraps", rg)
				}
			}
		}
	})
}

// TestIoctlAsyncSleepClose: a CLOSE sent right behind an IOCTL that goes
// async on the same handle waits for it (Samba bug 14769), and the
// handle-less torture hook pads its response body.
func TestIoctlAsyncSleepClose(t *testing.T) {
	e := newDurableEnv(t)
	e.srv.cfg.TortureHooks = true
	c := e.dial("alice", "Alice-pw1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 20 {
		id := openFile(t, c, "f", fileAllAccess)
		sleep := &wire.IoctlRequest{CtlCode: fsctlSmbtortureAsyncSleep, FileID: id, Input: []byte{200}, Flags: wire.IoctlIsFsctl}
		call, err := c.Send(wire.CommandIoctl, sleep.Append)
		if err != nil {
			t.Fatal(err)
		}
		closeCall, err := c.Send(wire.CommandClose, (&wire.CloseRequest{FileID: id}).Append)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Wait(ctx, call)
		if err != nil || resp.Header.Status != 0 {
			t.Fatalf("async IOCTL: %v %v", resp.Header.Status, err)
		}
		resp, err = c.Wait(ctx, closeCall)
		if err != nil || resp.Header.Status != 0 {
			t.Fatalf("CLOSE: %v %v", resp.Header.Status, err)
		}
	}

	all := wire.FileID{Persistent: ^uint64(0), Volatile: ^uint64(0)}
	r := ioctl(t, c, all, fsctlSmbtortureIoctlPadding8, nil, 3)
	if r.status != 0 || !bytes.Equal(r.out, []byte{8, 8, 8}) {
		t.Fatalf("padding hook: %v %x", r.status, r.out)
	}
	if r := ioctl(t, c, wire.FileID{}, fsctlSmbtortureIoctlPadding8, nil, 3); r.status != wire.StatusInvalidParameter {
		t.Fatalf("handle-less FSCTL with a FileId: %v", r.status)
	}
}
