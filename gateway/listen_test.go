package gateway

import (
	"net"
	"testing"
)

// The listener holds at most n connections: the next is accepted only
// once one of them has closed.
func TestLimitListenerHoldsAtMostN(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limit(raw, 1).(*limitListener)
	defer l.Close()
	for range 2 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.slots) != 1 {
		t.Fatalf("%d slots taken with one connection open, want 1", len(l.slots))
	}
	accepted := make(chan net.Conn)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	select {
	case <-accepted:
		t.Fatal("a second connection was accepted while the first is open")
	default:
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := <-accepted // accepted once the first closed
	_ = second.Close()
	_ = first.Close() // closing twice frees one slot only
	if len(l.slots) != 0 {
		t.Fatalf("%d slots taken with no connection open, want 0", len(l.slots))
	}
}
