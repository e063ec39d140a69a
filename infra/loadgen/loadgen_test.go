package loadgen

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var kinds = []string{"new", "returning", "idtoken", "bad"}

func TestParseMix(t *testing.T) {
	m, err := ParseMix(" new=20, returning=50,idtoken=20,bad=10 ", kinds)
	if err != nil {
		t.Fatal(err)
	}
	if m.String() != "new=20,returning=50,idtoken=20,bad=10" {
		t.Fatalf("mix %s", m)
	}
	if m, err := ParseMix("bad=0,new=1", kinds); err != nil || m.String() != "bad=0,new=1" {
		t.Fatalf("a zero weight: %v %v", m, err)
	}
	for _, bad := range []string{"", "new", "new=x", "new=-1", "new=1,new=2", "old=1", "new=0,bad=0", "new=1e3", "new=1000001"} {
		if _, err := ParseMix(bad, kinds); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

func TestCountsAreExactAndProportional(t *testing.T) {
	m, _ := ParseMix("new=20,returning=50,idtoken=20,bad=10", kinds)
	for _, tc := range []struct {
		n    int
		want map[string]int
	}{
		{500, map[string]int{"new": 100, "returning": 250, "idtoken": 100, "bad": 50}},
		{60, map[string]int{"new": 12, "returning": 30, "idtoken": 12, "bad": 6}},
		// 7 * (2,5,2,1)/10 = 1.4, 3.5, 1.4, 0.7: floors 1,3,1,0 leave 2 for
		// the largest remainders, .7 (bad) then .5 (returning).
		{7, map[string]int{"new": 1, "returning": 4, "idtoken": 1, "bad": 1}},
		{1, map[string]int{"new": 0, "returning": 1, "idtoken": 0, "bad": 0}},
	} {
		got := m.Counts(tc.n)
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("Counts(%d) = %v, want %v", tc.n, got, tc.want)
				break
			}
		}
	}
	// Whatever the weights, the counts add up to n.
	odd, _ := ParseMix("new=3,returning=7,bad=13", kinds)
	for n := range 200 {
		sum := 0
		for _, c := range odd.Counts(n) {
			sum += c
		}
		if sum != n {
			t.Fatalf("Counts(%d) adds up to %d", n, sum)
		}
	}
}

func TestPlanInterleavesReproducibly(t *testing.T) {
	m, _ := ParseMix("new=50,bad=50", kinds)
	a, b := m.Plan(100, 42), m.Plan(100, 42)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave two plans")
	}
	if slices.Equal(a, m.Plan(100, 43)) {
		t.Fatal("another seed gave the same plan")
	}
	// Interleaved, not 50 of one kind then 50 of the other.
	if first := a[:50]; !slices.Contains(first, "new") || !slices.Contains(first, "bad") {
		t.Fatalf("plan not shuffled: %v", a)
	}
	counts := map[string]int{}
	for _, k := range a {
		counts[k]++
	}
	if counts["new"] != 50 || counts["bad"] != 50 {
		t.Fatalf("plan counts %v", counts)
	}
}

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestSummarizeNearestRank(t *testing.T) {
	var hundred []int
	for i := 100; i >= 1; i-- {
		hundred = append(hundred, i)
	}
	in := ms(hundred...)
	s := Summarize(in)
	want := Summary{Count: 100, Min: ms(1)[0], Mean: 50500 * time.Microsecond, P50: ms(50)[0], P95: ms(95)[0], P99: ms(99)[0], Max: ms(100)[0]}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	if in[0] != 100*time.Millisecond {
		t.Fatal("Summarize sorted its input")
	}
	// Ten samples: p95 and p99 are the largest (rank ceil(9.5) = 10).
	s = Summarize(ms(5, 1, 9, 3, 7, 2, 8, 4, 10, 6))
	if s.P50 != 5*time.Millisecond || s.P95 != 10*time.Millisecond || s.P99 != 10*time.Millisecond {
		t.Fatalf("ten samples: %+v", s)
	}
	if s := Summarize(ms(42)); s.P50 != s.P99 || s.Min != s.Max || s.P50 != 42*time.Millisecond {
		t.Fatalf("one sample: %+v", s)
	}
	if s := Summarize(nil); s != (Summary{}) {
		t.Fatalf("no samples: %+v", s)
	}
	if Percentile(nil, 50) != 0 {
		t.Fatal("percentile of nothing")
	}
}

func TestRunBoundsConcurrency(t *testing.T) {
	var running, peak, calls atomic.Int32
	var seen sync.Map
	var done atomic.Int32
	err := Run(context.Background(), 50, 4, func(_ context.Context, i int) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if _, dup := seen.LoadOrStore(i, true); dup {
			t.Errorf("attempt %d ran twice", i)
		}
		time.Sleep(time.Millisecond)
		calls.Add(1)
		running.Add(-1)
	}, func() { done.Add(1) })
	if err != nil || calls.Load() != 50 || done.Load() != 50 {
		t.Fatalf("err %v, %d calls, %d done", err, calls.Load(), done.Load())
	}
	if peak.Load() > 4 || peak.Load() < 2 {
		t.Fatalf("peak concurrency %d, want 2..4", peak.Load())
	}
	if err := Run(context.Background(), 1, 0, func(context.Context, int) {}, nil); err == nil {
		t.Fatal("concurrency 0 accepted")
	}
}

func TestRunStopsFeedingWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	err := Run(ctx, 1000, 2, func(_ context.Context, i int) {
		if calls.Add(1) == 10 {
			cancel()
		}
	}, nil)
	if err == nil || calls.Load() >= 1000 {
		t.Fatalf("err %v after %d calls", err, calls.Load())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Without a terminal, progress is plain lines: one per 10% crossed, and
// the final count; on a terminal, one bar redrawn in place.
func TestProgressModes(t *testing.T) {
	var plain syncBuffer
	p := NewProgress(&plain, "bench", 20, false)
	for range 20 {
		p.Add()
	}
	p.Stop()
	lines := strings.Split(strings.TrimSpace(plain.String()), "\n")
	if len(lines) < 10 || !strings.HasPrefix(lines[0], "bench: 2/20 (10%)") || !strings.HasPrefix(lines[len(lines)-1], "bench: 20/20 (100%)") {
		t.Fatalf("plain progress:\n%s", plain.String())
	}
	if strings.Contains(plain.String(), "\r") || strings.Contains(plain.String(), "\033") {
		t.Fatal("plain progress has terminal control sequences")
	}

	var tty syncBuffer
	p = NewProgress(&tty, "bench", 4, true)
	for range 4 {
		p.Add()
	}
	p.Stop()
	out := tty.String()
	if !strings.HasPrefix(out, "\r\033[K") || strings.Count(out, "\n") != 1 || !strings.Contains(out, "4/4 100%") || !strings.Contains(out, strings.Repeat("█", 30)) {
		t.Fatalf("terminal progress: %q", out)
	}
}
