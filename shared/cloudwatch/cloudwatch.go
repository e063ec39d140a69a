// Package cloudwatch reports the stack's operational counts
// (kakaoauth.Metrics) as CloudWatch metrics in the embedded metric format
// (EMF): one JSON line per count on the function's standard output, from
// which CloudWatch Logs extracts the metric (namespace "kakaoauth",
// dimension Stack, the stack's name), where the template's alarms watch
// it (the reconciler's ReconciledUnlinks). No API call, no permission
// beyond the function's log group, no failure that could stop a run.
package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kakaoauth/kakaoauth"
)

// Namespace is the metrics' namespace; the template's alarms name it.
const Namespace = "kakaoauth"

// DimensionStack is the dimension naming the stack.
const DimensionStack = "Stack"

var _ kakaoauth.Metrics = (*Metrics)(nil)

// Metrics writes counts for one stack.
type Metrics struct {
	mu    sync.Mutex
	w     io.Writer
	stack string
	now   func() time.Time
}

// New writes the metrics of stack (its name) to w (a Lambda's standard
// output, which becomes its log group).
func New(w io.Writer, stack string) *Metrics { return &Metrics{w: w, stack: stack, now: time.Now} }

// Count writes one data point of name (unit Count) as an EMF line.
func (m *Metrics) Count(_ context.Context, name string, value int) error {
	if m.stack == "" {
		return errors.New("cloudwatch: no stack name to put metrics under")
	}
	line, err := json.Marshal(map[string]any{
		"_aws": map[string]any{
			"Timestamp": m.now().UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  Namespace,
				"Dimensions": [][]string{{DimensionStack}},
				"Metrics":    []map[string]string{{"Name": name, "Unit": "Count"}},
			}},
		},
		DimensionStack: m.stack,
		name:           value,
	})
	if err != nil {
		return fmt.Errorf("cloudwatch: %s: %w", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("cloudwatch: write %s: %w", name, err)
	}
	return nil
}
