package gateway

import (
	"net"
	"sync"
)

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// limitListener accepts at most n connections at a time: Accept waits
// while n are open, so a flood of idle connections cannot exhaust the
// process.
type limitListener struct {
	net.Listener
	slots chan struct{}
}

func limit(l net.Listener, n int) net.Listener {
	if n <= 0 {
		return l
	}
	return &limitListener{Listener: l, slots: make(chan struct{}, n)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
