package processnode

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"k8s.io/apimachinery/pkg/util/rand"
)

// The pod network on its own: two namespaces reach each other and are reached from the node by
// their addresses, each has the API server proxy on 127.0.0.1, and nothing is left after stop.
func TestPodNetworkNamespaces(t *testing.T) {
	p := newPodNetwork(200+rand.Intn(50), testr.New(t))
	if err := p.start(); err != nil {
		t.Skipf("network namespaces cannot be made here (the process node falls back to loopback addresses): %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			p.stop()
		}
	}()
	api := listenAndGreet(t, "127.0.0.1:0", "api")
	ipA, pathA, err := p.add("uid-a", "127.0.0.1", 443, api.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ipB, pathB, err := p.add("uid-b", "127.0.0.1", 443, api.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if ipA == ipB || !strings.HasPrefix(ipA, "10.") {
		t.Fatalf("addresses %s and %s: want two distinct ones of 10.<block>.0.0/16", ipA, ipB)
	}
	if err := inNetNS(pathB, func() error { listenAndGreet(t, "0.0.0.0:9000", "b"); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := readLine(t, "", ipB+":9000"); got != "b" {
		t.Errorf("from the node to pod B: %q", got)
	}
	if got := readLine(t, pathA, ipB+":9000"); got != "b" {
		t.Errorf("from pod A to pod B: %q", got)
	}
	if got := readLine(t, pathA, "127.0.0.1:443"); got != "api" {
		t.Errorf("pod A's API server proxy: %q", got)
	}
	// A container joins its pod's namespace: it can listen on the pod's address.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &container{name: "main"}
	spec := &ContainerSpec{Root: t.TempDir(), Hostname: "b", Mounts: hostBaseMounts(nil), Dir: "/", NetNS: pathB,
		Env: []string{"PATH=/usr/bin:/bin"}, Argv: []string{"perl", "-MIO::Socket::INET", "-e",
			`$s = IO::Socket::INET->new(LocalAddr => "` + ipB + `:9100", Listen => 5, ReuseAddr => 1) or die $!; while ($c = $s->accept) { print $c "container\n"; close $c }`}}
	if err := c.start(self, t.TempDir(), spec, func() {}); err != nil {
		t.Fatal(err)
	}
	defer func() { c.signal(syscall.SIGKILL); <-c.done }()
	var got string
	for deadline := time.Now().Add(30 * time.Second); got != "container" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		got = quietReadLine(ipB + ":9100")
	}
	if got != "container" {
		t.Errorf("the container in pod B's namespace did not answer on %s:9100 (%q)", ipB, got)
	}
	p.remove("uid-a")
	if _, err := os.Stat(pathA); !os.IsNotExist(err) {
		t.Errorf("pod A's namespace %s is left after remove: %v", pathA, err)
	}
	p.stop()
	stopped = true
	if _, err := os.Stat(pathB); !os.IsNotExist(err) {
		t.Errorf("pod B's namespace %s is left after stop: %v", pathB, err)
	}
	if linkExists(p.bridge) {
		t.Errorf("the bridge %s is left after stop", p.bridge)
	}
}

// Threads must outlive the processes they fork: the kernel sends a child its parent-death signal
// (SIGKILL for containers) when the thread that forked it ends. inNetNS gives its thread back
// rather than ending it, and containers are forked from a thread held for their whole life; before
// both, namespace switches killed random containers (exit 137) and broke pod-to-pod traffic.
func TestThreadsOutliveTheirChildren(t *testing.T) {
	startChild := func() (alive func() bool) {
		cmd := exec.Command("sleep", "300")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		return func() bool {
			select {
			case <-exited:
				return false
			case <-time.After(200 * time.Millisecond):
				return true
			}
		}
	}
	// Plain children, forked from whatever threads run these goroutines, survive namespace switches.
	alive := make([]func() bool, 16)
	var wg sync.WaitGroup
	for i := range alive {
		wg.Go(func() { alive[i] = startChild() })
	}
	wg.Wait()
	for range 200 {
		if err := inNetNS("/proc/self/ns/net", func() error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range alive {
		if !a() {
			t.Errorf("child %d was killed by a namespace switch (its forking thread ended)", i)
		}
	}

	// A container survives threads ending (any goroutine that ends locked discards its thread).
	if os.Geteuid() != 0 {
		t.Skip("starting a container needs root (mount namespaces)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &container{name: "main"}
	spec := &ContainerSpec{Root: t.TempDir(), Hostname: "c", Mounts: hostBaseMounts(nil), Dir: "/",
		Env: []string{"PATH=/usr/bin:/bin"}, Argv: []string{"sleep", "300"}}
	if err := c.start(self, t.TempDir(), spec, func() {}); err != nil {
		t.Fatal(err)
	}
	defer func() { c.signal(syscall.SIGKILL); <-c.done }()
	for range 50 {
		done := make(chan struct{})
		go func() { runtime.LockOSThread(); close(done) }() // ends locked: its thread ends
		<-done
	}
	select {
	case <-c.done:
		t.Errorf("the container was killed when threads ended: exit code %d", c.exitCode)
	case <-time.After(500 * time.Millisecond):
	}
}

// listenAndGreet listens on addr (in the calling thread's network namespace) and writes greeting
// and a newline to every connection.
func listenAndGreet(t *testing.T, addr, greeting string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte(greeting + "\n"))
			c.Close()
		}
	}()
	return ln
}

// readLine dials addr from the network namespace at netns ("" for the node's) and reads a line.
func readLine(t *testing.T, netns, addr string) string {
	t.Helper()
	var conn net.Conn
	dial := func() error {
		var err error
		conn, err = net.DialTimeout("tcp", addr, 10*time.Second)
		return err
	}
	var err error
	if netns == "" {
		err = dial()
	} else {
		err = inNetNS(netns, dial)
	}
	if err != nil {
		t.Errorf("dial %s: %v", addr, err)
		return ""
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line)
}

// quietReadLine dials addr from the node and reads a line; "" when that fails.
func quietReadLine(addr string) string {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line)
}
