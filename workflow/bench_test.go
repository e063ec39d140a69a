package workflow

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

// BenchmarkMachineReturningLogin runs a returning user's login through the
// real statemachine.asl.json with in-memory ports: the cost of the
// workflow itself (executor, JSON between states, the steps' logic and the
// password derivation), without any I/O.
func BenchmarkMachineReturningLogin(b *testing.B) {
	r := newRig(b)
	m, err := NewMachine(r.steps)
	if err != nil {
		b.Fatal(err)
	}
	in, _ := json.Marshal(map[string]any{"body": `{"access_token":"tok-1"}`, "oversized": false, "context": map[string]string{"sourceIp": "198.51.100.7"}})
	if exec, err := m.Run(context.Background(), in); err != nil || exec.Status != asl.StatusSucceeded {
		b.Fatalf("first login: %v %+v", err, exec)
	}
	b.ReportAllocs()
	for b.Loop() {
		exec, err := m.Run(context.Background(), in)
		if err != nil || exec.Status != asl.StatusSucceeded {
			b.Fatalf("login: %v %+v", err, exec)
		}
	}
}
