package templatecheck

import (
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/workflow"
)

// The linking endpoints' budget is the template's: the function's Timeout
// and API Gateway's integration timeout of every method of the route are
// workflow.LinkTimeout, from which LinkBudget keeps the audit's time. A
// longer budget than either would end in API Gateway's bare 504, with no
// link_failed row.
func TestLinkBudgetIsTheTemplatesTimeout(t *testing.T) {
	tpl := transformed(t)
	if got := at(tpl.Resources["LinkFunction"].Properties, "Timeout"); got != workflow.LinkTimeout.Seconds() {
		t.Errorf("LinkFunction Timeout %v s, want workflow.LinkTimeout %v", got, workflow.LinkTimeout)
	}
	body := at(tpl.Resources["LoginApi"].Properties, "Body")
	for _, method := range []string{"post", "delete", "options"} {
		ms := at(body, "paths", workflow.LinkPath, method, "x-amazon-apigateway-integration", "timeoutInMillis")
		if ms != float64(workflow.LinkTimeout/time.Millisecond) {
			t.Errorf("%s %s timeoutInMillis %v, want %v", method, workflow.LinkPath, ms, workflow.LinkTimeout.Milliseconds())
		}
	}
	if workflow.LinkBudget <= 0 || workflow.LinkBudget >= workflow.LinkTimeout {
		t.Fatalf("LinkBudget %v must leave part of LinkTimeout %v", workflow.LinkBudget, workflow.LinkTimeout)
	}
}
