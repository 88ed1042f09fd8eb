package main

import (
	"bufio"
	"net"
	"testing"
	"time"
)

func TestProxyForwardsAndCuts(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() {
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						c.Close()
						return
					}
					_, _ = c.Write([]byte(line))
				}
			}()
		}
	}()
	p, err := newProxy(echo.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	roundTrip := func(c net.Conn) error {
		if _, err := c.Write([]byte("ping\n")); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := bufio.NewReader(c).ReadString('\n')
		return err
	}
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(c); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	p.cut(time.Second)
	if err := roundTrip(c); err == nil {
		t.Error("the open connection survived the cut")
	}
	if c2, err := net.Dial("tcp", p.addr()); err == nil {
		if roundTrip(c2) == nil {
			t.Error("a new connection worked during the cut")
		}
	}
	time.Sleep(1100 * time.Millisecond)
	c3, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(c3); err != nil {
		t.Errorf("after the cut: %v", err)
	}
}
