package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/kakaoauth/kakaoauth"
)

// The login's time. The state machine gives an execution 25 s
// (TimeoutSeconds) and API Gateway waits 29 s. A failure is audited by
// RecordFailure, which takes at most RecordBudget (three tries of at most
// 2 s, 1 s apart: statemachine.asl.json). So that it always has that time
// (a failure audited whatever hangs, never a 504 nobody recorded), the
// steps before it work within LoginBudget of the execution's start: each
// bounds its context by it, and one that starts or fails after it answers
// *LoginTimeout (504 Timeout, audited). A task's own TimeoutSeconds stays
// the backstop for code that does not heed its context.
const (
	LoginBudget  = 16 * time.Second
	RecordBudget = 8 * time.Second
)

// The linking endpoints' time (linkapi.go). API Gateway's integration
// and the function each give a request LinkTimeout (template.yaml:
// timeoutInMillis, the function's Timeout); past it the caller gets API
// Gateway's bare 504 and nobody records the attempt. So a request's calls
// work within LinkBudget of its start, leaving it the audit write of a
// refusal (recordTimeout, as RecordFailure's) and a moment to answer;
// one cut by it answers *LoginTimeout (504 Timeout), audited as
// link_failed.
const (
	LinkTimeout      = 10 * time.Second
	linkAnswerMargin = 500 * time.Millisecond
	LinkBudget       = LinkTimeout - recordTimeout - linkAnswerMargin
)

var errLoginBudget = errors.New("the login's budget is used up")

// withinBudget bounds ctx by the login's budget (no bound when the state
// carries no start time: a step invoked on its own). It fails at once,
// with *LoginTimeout, when the budget is already used up. The step defers
// done(&err): it releases the bound and turns a failure the budget caused
// into *LoginTimeout.
func withinBudget(ctx context.Context, rc RequestContext, step string) (context.Context, func(*error), error) {
	if rc.StartedAt.IsZero() {
		return ctx, func(*error) {}, nil
	}
	return withinDeadline(ctx, rc.StartedAt.Add(LoginBudget), step)
}

// withinDeadline is withinBudget's bound for any deadline: ctx bounded by
// it, *LoginTimeout at once when it has passed, and done(&err) turning a
// failure it caused into *LoginTimeout.
func withinDeadline(ctx context.Context, deadline time.Time, step string) (context.Context, func(*error), error) {
	if !time.Now().Before(deadline) {
		return ctx, func(*error) {}, &kakaoauth.LoginTimeout{Step: step}
	}
	ctx, cancel := context.WithDeadlineCause(ctx, deadline, errLoginBudget)
	return ctx, func(err *error) {
		if *err != nil && errors.Is(context.Cause(ctx), errLoginBudget) {
			*err = &kakaoauth.LoginTimeout{Step: step}
		}
		cancel()
	}, nil
}
