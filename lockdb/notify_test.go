package lockdb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestPublish: a message published by one node reaches the subscriber of
// its topic on every other node (not the sender), in the order published;
// other topics and unsubscribed nodes drop it; a killed node makes
// Publish report an error without losing the others' delivery.
func TestPublish(t *testing.T) {
	h := newHarness(t, 3)
	for _, n := range h.order {
		h.start(n)
	}
	h.waitStable(10 * time.Second)

	type got struct{ from, payload string }
	var mu sync.Mutex
	recv := map[string][]got{}
	for _, c := range h.live() {
		name := c.self.Name
		c.Subscribe("t", func(from string, p []byte) {
			mu.Lock()
			recv[name] = append(recv[name], got{from, string(p)})
			mu.Unlock()
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n1 := h.node("n1")
	for i := range 3 {
		if err := n1.Publish(ctx, "t", fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	if err := n1.Publish(ctx, "other", []byte("x")); err != nil {
		t.Fatalf("publish to a topic nobody subscribed: %v", err)
	}
	h.node("n3").Subscribe("t", nil)
	if err := h.node("n2").Publish(ctx, "t", []byte("from n2")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	mu.Lock()
	want := map[string]string{
		"n1": "[{n2 from n2}]",
		"n2": "[{n1 m0} {n1 m1} {n1 m2}]",
		"n3": "[{n1 m0} {n1 m1} {n1 m2}]",
	}
	for n, w := range want {
		if g := fmt.Sprint(recv[n]); g != w {
			t.Errorf("%s received %s, want %s", n, g, w)
		}
	}
	mu.Unlock()

	// A member that is gone is an error; the others still get the message.
	h.kill("n3")
	if err := n1.Publish(ctx, "t", []byte("after")); err == nil {
		// The departed node may already be out of the map and the
		// membership: then there is nothing to fail.
		t.Log("publish after n3's death reached every listed node")
	}
	mu.Lock()
	defer mu.Unlock()
	if l := recv["n2"]; len(l) != 4 || l[3].payload != "after" {
		t.Errorf("n2 received %v after n3's death", l)
	}
}
