package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/loadgen"
)

// benchReport is what a run found; --json prints it as is.
type benchReport struct {
	Run struct {
		ID           string    `json:"id"`
		Endpoint     string    `json:"endpoint"`
		N            int       `json:"n"`
		Concurrency  int       `json:"concurrency"`
		Mix          string    `json:"mix"`
		Accounts     int       `json:"accounts"`
		FirstKakaoID int64     `json:"firstKakaoId"`
		LastKakaoID  int64     `json:"lastKakaoId"`
		Started      time.Time `json:"started"`
		Seconds      float64   `json:"seconds"` // the timed run, preparation excluded
	} `json:"run"`
	ThroughputPerSecond float64        `json:"throughputPerSecond"`
	Kinds               []kindReport   `json:"kinds"` // the mix's kinds, then "all"
	Prepare             kindReport     `json:"prepare"`
	Errors              map[string]int `json:"errors"` // the timed run's answers by error code
	Where               benchTargets   `json:"checked,omitzero"`
	Checks              []benchCheck   `json:"invariants,omitempty"`
	OK                  bool           `json:"ok"`
}

// kindReport summarises the attempts of one kind.
type kindReport struct {
	Kind       string         `json:"kind"`
	Count      int            `json:"count"`
	AsExpected int            `json:"asExpected"`
	Seconds    float64        `json:"seconds,omitempty"` // prepare only
	LatencyMs  latencyMs      `json:"latencyMs"`
	Status     map[string]int `json:"status"` // HTTP status ("error": no answer) -> attempts
	Errors     map[string]int `json:"errors,omitempty"`
}

type latencyMs struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarizeKind(kind string, attempts []*attempt) kindReport {
	k := kindReport{Kind: kind, Status: map[string]int{}, Errors: map[string]int{}}
	var lat []time.Duration
	for _, a := range attempts {
		k.Count++
		if a.asExpected() {
			k.AsExpected++
		}
		if a.status == 0 {
			k.Status["error"]++
			continue
		}
		lat = append(lat, a.latency)
		k.Status[strconv.Itoa(a.status)]++
		if a.code != "" {
			k.Errors[a.code]++
		}
	}
	s := loadgen.Summarize(lat)
	k.LatencyMs = latencyMs{Min: millis(s.Min), Mean: millis(s.Mean), P50: millis(s.P50), P95: millis(s.P95), P99: millis(s.P99), Max: millis(s.Max)}
	return k
}

func (rep *benchReport) summarize(mix loadgen.Mix, prep []*attempt, prepTime time.Duration, load []*attempt, loadTime time.Duration) {
	rep.Prepare = summarizeKind(kindPrepare, prep)
	rep.Prepare.Seconds = prepTime.Seconds()
	for _, sh := range mix {
		var of []*attempt
		for _, a := range load {
			if a.kind == sh.Kind {
				of = append(of, a)
			}
		}
		if len(of) > 0 {
			rep.Kinds = append(rep.Kinds, summarizeKind(sh.Kind, of))
		}
	}
	all := summarizeKind("all", load)
	rep.Kinds = append(rep.Kinds, all)
	rep.Errors = all.Errors
	if s := loadTime.Seconds(); s > 0 {
		rep.ThroughputPerSecond = float64(len(load)) / s
	}
}

// print writes the report for a person.
func (rep *benchReport) print(w io.Writer, checked bool) {
	fmt.Fprintf(w, "prepared %d returning accounts in %.1fs (%d logins)\n\n", rep.Run.Accounts, rep.Prepare.Seconds, rep.Prepare.Count)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tCOUNT\tAS EXPECTED\tP50\tP95\tP99\tMAX\tSTATUS")
	for _, k := range rep.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", k.Kind, k.Count, k.AsExpected,
			ms(k.LatencyMs.P50), ms(k.LatencyMs.P95), ms(k.LatencyMs.P99), ms(k.LatencyMs.Max), counts(k.Status))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nthroughput: %.1f logins/s (%d in %.2fs)\n", rep.ThroughputPerSecond, rep.Run.N, rep.Run.Seconds)
	if len(rep.Errors) > 0 {
		fmt.Fprintf(w, "errors by code: %s\n", counts(rep.Errors))
	}
	if !checked {
		fmt.Fprintln(w, "\ninvariants: not checked (-check=false)")
		return
	}
	fmt.Fprintf(w, "\ninvariants (pool %s, tables %s and %s):\n", rep.Where.UserPoolID, rep.Where.MappingTable, rep.Where.AuditTable)
	for _, c := range rep.Checks {
		verdict := "ok  "
		if !c.OK {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %-46s %s\n", verdict, c.label(), c.Detail)
		for _, e := range c.Examples {
			fmt.Fprintf(w, "          %s\n", e)
		}
	}
}

func ms(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}

// counts renders a tally as "200×12 401×3", keys in order.
func counts(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
