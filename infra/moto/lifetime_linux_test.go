package moto

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func runHelper(t *testing.T, mode string) (url string, pid int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v: %s", err, out)
	}
	line, _, _ := bufio.NewReader(strings.NewReader(string(out))).ReadLine()
	fields := strings.Fields(string(line))
	if len(fields) != 2 {
		t.Fatalf("helper said %q", out)
	}
	pid, err = strconv.Atoi(fields[1])
	if err != nil {
		t.Fatal(err)
	}
	return fields[0], pid
}

func TestMotoDiesWithItsParent(t *testing.T) {
	url, pid := runHelper(t, "attached")
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := probe(ctx, url); err != nil {
			return // gone, as it should be
		}
		if time.Now().After(deadline) {
			t.Fatal("moto outlived the process that started it")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDetachedMotoOutlivesItsParent(t *testing.T) {
	url, pid := runHelper(t, "detached")
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	time.Sleep(500 * time.Millisecond) // give a parent-death kill time to land
	srv, err := Ensure(context.Background(), strings.TrimPrefix(url, "http://"), Options{})
	if err != nil {
		t.Fatalf("detached moto is gone: %v", err)
	}
	if !srv.Reused() {
		t.Fatal("Ensure started a new moto instead of finding the detached one")
	}
}
