package smb

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSubunit(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		in      string
		want    []Result
		wantErr error
	}{
		{
			name: "smbtorture stream",
			in: "smbtorture 4.17.12-Debian\nUsing seed 1\ntime: 2026-11-22 00:03:03.281970\nprogress: 5\n" +
				"test: smb2.read.eof\ntime: 2026-11-22 00:03:03.282000\ntime: 2026-11-22 00:03:03.296000\nsuccess: smb2.read.eof\n" +
				"test: smb2.create.gentest\ntime: 2026-11-22 00:03:04.000000Z\n" +
				"failure: smb2.create.gentest [\n(create.c:494) Incorrect status\nsecond line\n]\n" +
				"test: smb2.x.skipped\nskip: smb2.x.skipped [not supported]\n" +
				"test: smb2.x.err\nerror: smb2.x.err\n" +
				"test: smb2.x.xf\nxfail: smb2.x.xf\ntest: smb2.x.ux\nuxsuccess: smb2.x.ux\n",
			want: []Result{
				{Name: "smb2.read.eof", Outcome: Pass, Elapsed: 14030 * time.Microsecond},
				{Name: "smb2.create.gentest", Outcome: Fail, Detail: "(create.c:494) Incorrect status\nsecond line", Elapsed: 704 * ms},
				{Name: "smb2.x.skipped", Outcome: Skip, Detail: "not supported"},
				{Name: "smb2.x.err", Outcome: Error},
				{Name: "smb2.x.xf", Outcome: XFail},
				{Name: "smb2.x.ux", Outcome: Pass},
			},
		},
		{
			name: "killed mid-test",
			in:   "test: a.one\nsuccess: a.one\ntest: a.two\ntime: 2026-11-22 00:00:00\ntest: a.three\n",
			want: []Result{{Name: "a.one", Outcome: Pass}, {Name: "a.two", Outcome: Incomplete}, {Name: "a.three", Outcome: Incomplete}},
		},
		{
			name:    "unterminated detail",
			in:      "test: a.one\nfailure: a.one [\nwhy\n",
			want:    []Result{{Name: "a.one", Outcome: Fail, Detail: "why"}},
			wantErr: ErrSubunitUnterminated,
		},
		{
			name:    "outcome without name",
			in:      "test: a\nsuccess: \n",
			wantErr: ErrSubunitName,
		},
		{
			name: "CRLF, detail with brackets, outcome without test line",
			in:   "failure: b.c [\r\n[nested]\r\n]\r\nsuccess: b.d\r\n",
			want: []Result{{Name: "b.c", Outcome: Fail, Detail: "[nested]"}, {Name: "b.d", Outcome: Pass}},
		},
		{name: "empty", in: ""},
		{name: "noise only", in: "hello\n: \nprogress: push\ntime: garbage\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSubunit(strings.NewReader(tc.in))
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseSubunit(f *testing.F) {
	f.Add("test: a\nsuccess: a\n")
	f.Add("test: a\ntime: 2026-11-22 00:03:03.281970\nfailure: a [\nx\n]\n")
	f.Add("test: a\nskip: a [why]\ntest: b\n")
	f.Add("failure: a [\n")
	f.Fuzz(func(t *testing.T, in string) {
		res, err := ParseSubunit(strings.NewReader(in))
		for _, r := range res {
			if r.Name == "" {
				t.Fatalf("result without a name: %+v (err %v)", r, err)
			}
			if r.Elapsed < 0 {
				t.Fatalf("negative elapsed: %+v", r)
			}
			if _, known := map[Outcome]bool{Pass: true, Fail: true, Error: true, Skip: true, XFail: true, Incomplete: true}[r.Outcome]; !known {
				t.Fatalf("unknown outcome %q", r.Outcome)
			}
		}
	})
}
