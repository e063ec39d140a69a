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
	deadline := rc.StartedAt.Add(LoginBudget)
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
