package loadgen

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress shows how far a run is: on a terminal a bar redrawn in place,
// otherwise (a log, a pipe) a plain line now and then.
type Progress struct {
	w        io.Writer
	label    string
	total    int
	terminal bool
	every    time.Duration
	now      func() time.Time

	done     atomic.Int64
	start    time.Time
	stop     chan struct{}
	stopped  sync.WaitGroup
	mu       sync.Mutex // serialises writes
	lastStep int        // plain mode: the last 10% step printed
}

// Progress timing: a terminal is redrawn often, a log gets a line per 10%
// or every plainEvery, whichever comes first.
const (
	terminalEvery = 200 * time.Millisecond
	plainEvery    = 5 * time.Second
)

// NewProgress starts showing the progress of total attempts on w.
func NewProgress(w io.Writer, label string, total int, terminal bool) *Progress {
	p := &Progress{w: w, label: label, total: total, terminal: terminal, every: plainEvery, now: time.Now, stop: make(chan struct{})}
	if terminal {
		p.every = terminalEvery
	}
	p.start = p.now()
	p.stopped.Add(1)
	go func() {
		defer p.stopped.Done()
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.render(false)
			}
		}
	}()
	return p
}

// Add counts one finished attempt.
func (p *Progress) Add() {
	n := int(p.done.Add(1))
	if p.terminal || p.total <= 0 {
		return
	}
	// Plain mode also reports each 10% step as it is crossed.
	if step := n * 10 / p.total; step > 0 && step < 10 {
		p.mu.Lock()
		defer p.mu.Unlock()
		if step > p.lastStep {
			p.lastStep = step
			p.renderLocked(false)
		}
	}
}

// Stop draws the final state and ends the display.
func (p *Progress) Stop() {
	close(p.stop)
	p.stopped.Wait()
	p.render(true)
}

func (p *Progress) render(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.renderLocked(final)
}

func (p *Progress) renderLocked(final bool) {
	done := int(p.done.Load())
	elapsed := p.now().Sub(p.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	pct := 0
	if p.total > 0 {
		pct = done * 100 / p.total
	}
	if !p.terminal {
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%) %.1f/s %.1fs\n", p.label, done, p.total, pct, rate, elapsed.Seconds())
		return
	}
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = min(done*width/p.total, width)
	}
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	fmt.Fprintf(p.w, "\r\033[K%s %s %d/%d %3d%% %6.1f/s %6.1fs", p.label, bar, done, p.total, pct, rate, elapsed.Seconds())
	if final {
		fmt.Fprintln(p.w)
	}
}
