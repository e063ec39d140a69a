// Package loadgen is the engine under `kakaoauth bench`: a mix of request
// kinds turned into a plan, N attempts run at concurrency C, a progress
// display, and latency summaries. It knows nothing about logins.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Share is one kind's weight in a Mix.
type Share struct {
	Kind   string
	Weight int
}

// Mix says in which proportions kinds are run, in the order given.
type Mix []Share

// ParseMix reads "new=20,returning=50,idtoken=20,bad=10". Weights are
// relative (they need not sum to 100); a kind may be left out or given 0,
// but every kind must be one of known and appear once.
func ParseMix(s string, known []string) (Mix, error) {
	var m Mix
	total := 0
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kind, w, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mix %q: %q is not kind=weight", s, part)
		}
		kind = strings.TrimSpace(kind)
		if !slices.Contains(known, kind) {
			return nil, fmt.Errorf("mix %q: unknown kind %q (kinds: %s)", s, kind, strings.Join(known, ", "))
		}
		if slices.ContainsFunc(m, func(sh Share) bool { return sh.Kind == kind }) {
			return nil, fmt.Errorf("mix %q: %s given twice", s, kind)
		}
		weight, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || weight < 0 || weight > 1_000_000 {
			return nil, fmt.Errorf("mix %q: weight of %s must be a whole number from 0 to 1000000", s, kind)
		}
		m = append(m, Share{Kind: kind, Weight: weight})
		total += weight
	}
	if total == 0 {
		return nil, fmt.Errorf("mix %q: no kind has a weight", s)
	}
	return m, nil
}

// String is the mix as ParseMix reads it.
func (m Mix) String() string {
	parts := make([]string, len(m))
	for i, sh := range m {
		parts[i] = sh.Kind + "=" + strconv.Itoa(sh.Weight)
	}
	return strings.Join(parts, ",")
}

// Counts splits n attempts between the kinds in proportion to their
// weights, exactly: the largest remainders get the attempts that rounding
// down leaves over (ties go to the kind listed first).
func (m Mix) Counts(n int) map[string]int {
	total := 0
	for _, sh := range m {
		total += sh.Weight
	}
	counts := map[string]int{}
	if total == 0 || n <= 0 {
		return counts
	}
	type rem struct {
		i    int
		frac float64
	}
	var rems []rem
	left := n
	for i, sh := range m {
		exact := float64(n) * float64(sh.Weight) / float64(total)
		c := int(math.Floor(exact))
		counts[sh.Kind] = c
		left -= c
		rems = append(rems, rem{i, exact - float64(c)})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.frac > b.frac:
			return -1
		case a.frac < b.frac:
			return 1
		}
		return 0
	})
	for i := 0; i < left; i++ {
		counts[m[rems[i].i].Kind]++
	}
	return counts
}

// Plan is the kind of each of n attempts: Counts(n), interleaved in an
// order that seed makes reproducible.
func (m Mix) Plan(n int, seed uint64) []string {
	counts := m.Counts(n)
	plan := make([]string, 0, n)
	for _, sh := range m {
		for range counts[sh.Kind] {
			plan = append(plan, sh.Kind)
		}
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	return plan
}

// Run calls attempt for i = 0..n-1, at most c at a time, and reports each
// finished attempt to done (which may be nil). It returns when all have
// finished, or early with ctx's error once ctx is done (attempts already
// started still finish).
func Run(ctx context.Context, n, c int, attempt func(ctx context.Context, i int), done func()) error {
	if n < 0 || c < 1 {
		return errors.New("loadgen: need n >= 0 and c >= 1")
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(c, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				attempt(ctx, i)
				if done != nil {
					done()
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	return err
}

// Summary describes a set of latencies.
type Summary struct {
	Count                         int
	Min, Mean, P50, P95, P99, Max time.Duration
}

// Summarize computes a Summary with nearest-rank percentiles: Pp is the
// smallest latency that at least p% of the samples do not exceed, always
// one of the samples. ds is not modified.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	return Summary{
		Count: len(sorted),
		Min:   sorted[0],
		Mean:  sum / time.Duration(len(sorted)),
		P50:   Percentile(sorted, 50),
		P95:   Percentile(sorted, 95),
		P99:   Percentile(sorted, 99),
		Max:   sorted[len(sorted)-1],
	}
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted,
// which must be in ascending order; 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
