package smbnode

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"shoal/lockdb/table"
	"shoal/smbnode/wire"
)

// fakeBus records what a node publishes; Publish blocks while gate is
// held.
type fakeBus struct {
	gate sync.Mutex
	mu   sync.Mutex
	sent []relayMsg
	h    func(string, []byte)
}

func (b *fakeBus) Publish(ctx context.Context, topic string, payload []byte) error {
	b.gate.Lock()
	defer b.gate.Unlock()
	var m relayMsg
	if err := json.Unmarshal(payload, &m); err != nil {
		return err
	}
	b.mu.Lock()
	b.sent = append(b.sent, m)
	b.mu.Unlock()
	return nil
}

func (b *fakeBus) Subscribe(topic string, h func(string, []byte)) { b.h = h }

// wait returns the messages sent once cond holds for them.
func (b *fakeBus) wait(t *testing.T, what string, cond func([]relayMsg) bool) []relayMsg {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		sent := append([]relayMsg(nil), b.sent...)
		b.mu.Unlock()
		if cond(sent) {
			return sent
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: sent %+v", what, sent)
		}
		time.Sleep(time.Millisecond)
	}
}

func relayed(ms []relayMsg) (out []string) {
	for _, m := range ms {
		for _, c := range m.Changes {
			out = append(out, fmt.Sprintf("%d:%s", c.Action, c.Rel))
		}
	}
	return out
}

// TestNotifyRelay: changes are relayed only while another node watches,
// in order; a backlog beyond maxRelayQueue becomes an overflow marker;
// received changes reach this node's watches, a received overflow
// answers them with ENUM_DIR.
func TestNotifyRelay(t *testing.T) {
	sh := &share{cfg: ShareConfig{Name: "Data"}}
	bus := &fakeBus{}
	s := &Server{cfg: Config{NotifyBus: bus}, shares: map[string]*share{"data": sh}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.startNotifyRelay()
	if bus.h == nil {
		t.Fatal("no subscription")
	}
	rl := &s.notify.relay
	say := func(from string, m relayMsg) {
		b, _ := json.Marshal(m)
		bus.h(from, b)
	}

	// The first directory open is announced before notifyDirOpened
	// returns; more opens, or files, are not.
	count := func() int { bus.mu.Lock(); defer bus.mu.Unlock(); return len(bus.sent) }
	d1, d2 := &open{isDir: true}, &open{isDir: true}
	s.notifyDirOpened(&open{})
	if count() != 0 {
		t.Fatal("a file open was announced")
	}
	s.notifyDirOpened(d1)
	if count() != 1 || !bus.sent[0].Watching {
		t.Fatalf("first directory open: sent %+v", bus.sent)
	}
	s.notifyDirOpened(d2)
	s.notifyDirClosed(d1)
	s.notifyDirClosed(d2) // the last: withdrawn only after relayLinger
	if count() != 1 {
		t.Fatalf("second directory open or a close: sent %+v", bus.sent)
	}
	bus.mu.Lock()
	bus.sent = nil
	bus.mu.Unlock()

	// Nobody watches: nothing is queued or sent.
	s.relayEvent(sh, wire.FileActionAdded, wire.FileNotifyChangeFileName, "a.txt", "")
	rl.mu.Lock()
	if len(rl.queue.Changes) != 0 || rl.sending {
		t.Error("a change was queued with no other node watching")
	}
	rl.mu.Unlock()

	// n2 watches: changes go out in order.
	say("n2", relayMsg{Watching: true})
	for i := range 3 {
		s.relayEvent(sh, wire.FileActionAdded, wire.FileNotifyChangeFileName, fmt.Sprintf("f%d", i), "")
	}
	sent := bus.wait(t, "three changes", func(ms []relayMsg) bool { return len(relayed(ms)) == 3 })
	if got := fmt.Sprint(relayed(sent)); got != "[1:f0 1:f1 1:f2]" {
		t.Errorf("relayed %s", got)
	}
	for _, m := range sent {
		// d2 is closed but lingering: the others must keep believing
		// this node watches, whatever it sends.
		if !m.Watching {
			t.Errorf("a message withdrew the announcement: %+v", m)
		}
	}
	if sent[0].Changes[0].Share != "Data" {
		t.Errorf("share %q", sent[0].Changes[0].Share)
	}

	// A backlog beyond the bound is replaced by an overflow marker.
	bus.gate.Lock()
	s.relayEvent(sh, wire.FileActionRemoved, wire.FileNotifyChangeFileName, "first", "")
	time.Sleep(10 * time.Millisecond) // the sender takes "first" and blocks
	for i := 0; i <= maxRelayQueue; i++ {
		s.relayEvent(sh, wire.FileActionModified, wire.FileNotifyChangeSize, "big", "")
	}
	bus.gate.Unlock()
	sent = bus.wait(t, "overflow marker", func(ms []relayMsg) bool { return len(ms) > 0 && ms[len(ms)-1].Overflow })
	if last := sent[len(sent)-1]; len(last.Changes) != 0 {
		t.Errorf("overflow marker carries %d changes", len(last.Changes))
	}

	// n2 stops watching: changes are no longer relayed, delete-pending
	// news still is.
	say("n2", relayMsg{Watching: false})
	s.relayEvent(sh, wire.FileActionAdded, wire.FileNotifyChangeFileName, "late", "")
	rl.mu.Lock()
	if len(rl.queue.Changes) != 0 {
		t.Error("a change was queued after the last watcher left")
	}
	rl.mu.Unlock()
	s.relayDeletePending(table.Key{Share: "data", Inode: 7})
	bus.wait(t, "delete-pending news", func(ms []relayMsg) bool {
		return len(ms) > 0 && fmt.Sprint(ms[len(ms)-1].DeletePending) == "[data:7]"
	})

	// Received changes reach local watches; an unknown share is ignored.
	o := &open{rel: "dir", isDir: true}
	w := &watch{o: o, share: sh, filter: wire.FileNotifyChangeFileName, maxBuffer: 4096}
	s.notify.watches = map[*open]*watch{o: w}
	s.notify.active.Store(1)
	say("n3", relayMsg{Watching: true, Changes: []relayChange{
		{Share: "DATA", Action: wire.FileActionAdded, Filter: wire.FileNotifyChangeFileName, Rel: "dir/x"},
		{Share: "nope", Action: wire.FileActionAdded, Filter: wire.FileNotifyChangeFileName, Rel: "dir/y"},
	}})
	if got := fmt.Sprint(w.changes); got != "[{1 x}]" {
		t.Errorf("watch got %s", got)
	}
	say("n3", relayMsg{Watching: true, Overflow: true})
	if !w.overflowed || len(w.changes) != 0 {
		t.Errorf("after a received overflow: %v %v", w.overflowed, w.changes)
	}
	rl.mu.Lock()
	_, n3 := rl.watchers["n3"]
	rl.mu.Unlock()
	if !n3 {
		t.Error("n3 not remembered as watching")
	}
}
