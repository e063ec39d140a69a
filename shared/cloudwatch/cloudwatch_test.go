package cloudwatch

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"
)

// A count is one line of CloudWatch's embedded metric format: the _aws
// metadata (a millisecond timestamp, the namespace, the dimension set,
// the metric and its unit) and the dimension's and the metric's values at
// the top level, as CloudWatch Logs requires to extract it.
func TestCountIsAnEMFLine(t *testing.T) {
	var out bytes.Buffer
	m := New(&out, "kakaoauth-prod")
	m.now = func() time.Time { return time.UnixMilli(1767225600123) }
	if err := m.Count(context.Background(), "ReconciledUnlinks", 3); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(out.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("want one line: %q", out.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := `{"ReconciledUnlinks":3,"Stack":"kakaoauth-prod","_aws":{"CloudWatchMetrics":[{"Dimensions":[["Stack"]],"Metrics":[{"Name":"ReconciledUnlinks","Unit":"Count"}],"Namespace":"kakaoauth"}],"Timestamp":1767225600123}}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Fatalf("line %s\nwant %s", b, want)
	}
	if err := New(&out, "").Count(context.Background(), "X", 1); err == nil {
		t.Fatal("a metric without a stack was written")
	}
}
