package lockdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// kindPublish carries a Publish message (any → any). It is numbered apart
// from the iota-numbered kinds of rpc.go so that adding one there never
// renumbers it.
const kindPublish Kind = 0xf0

// publishReq is the body of a kindPublish request.
type publishReq struct {
	Topic   string `json:"topic"`
	Payload []byte `json:"payload"`
}

// Publish sends payload under topic to every other node: those of the
// current generation's node map and every other live member. It returns
// when each has handled it or failed, or when ctx ends; the error joins
// the failures (a node that missed the message may still have got it).
// Publish does not need a generation: it serves best-effort fan-out (such
// as change notifications) that must not wait for a recovery. Messages
// from one caller arrive in order if the caller waits for each Publish.
// Safe for concurrent use; payload is not retained.
func (c *Cluster) Publish(ctx context.Context, topic string, payload []byte) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	req := publishReq{Topic: topic, Payload: payload}
	for _, t := range c.adminTargets() {
		if t.Name == c.self.Name {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.call(ctx, t, kindPublish, 0, req); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("publish %s to %s: %w", topic, t.Name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Subscribe makes h receive what the other nodes Publish under topic
// (from is the sending node's name); a nil h unsubscribes. h runs on the
// RPC goroutine of the message, possibly concurrently for messages from
// different nodes, and must not block for long. payload is h's to keep.
// Messages under a topic nobody subscribed are dropped.
func (c *Cluster) Subscribe(topic string, h func(from string, payload []byte)) {
	if h == nil {
		c.subs.Delete(topic)
		return
	}
	c.subs.Store(topic, h)
}

// handlePublish delivers a kindPublish message to its topic's subscriber.
func (c *Cluster) handlePublish(from Peer, m Message) Message {
	var req publishReq
	if err := decode(m.Body, &req); err != nil {
		return reply(0, nil, err)
	}
	if h, ok := c.subs.Load(req.Topic); ok {
		h.(func(string, []byte))(from.Name, req.Payload)
	}
	return reply(0, nil, nil)
}
