package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/lambdaapi"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/provision"
	"github.com/kakaoauth/kakaoauth/shared/userpool"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// The user pool's Lambda triggers on the local stack: the handlers the
// template's trigger functions run (lambdas/<name>), served through
// Lambda's Invoke API (infra/lambdaapi) on a port of their own, and
// registered with moto's layer by ARN, so that moto's Cognito invokes them
// where Cognito would (docs/local-stack.md).

// triggerTimeout is the functions' Timeout in template.yaml (Globals);
// Cognito gives up after 5 s anyway.
const triggerTimeout = 10 * time.Second

// triggerHandlers are the handlers of the template's trigger functions, by
// logical id. A trigger the pool names that this map lacks stops the local
// stack at start: add its handler here with the function.
func triggerHandlers(steps *workflow.Steps) map[string]any {
	return map[string]any{
		"PreAuthFunction": steps.PreAuthentication,
		// Steps already serve the provisioned pool: the pool of the first
		// event must be it.
		"PreSignUpFunction": workflow.PreSignUpOfPool(func(string) *workflow.Steps { return steps }),
		// The Kakao login of a linked user (workflow/challenge.go).
		"DefineAuthChallengeFunction": steps.DefineAuthChallenge,
		"CreateAuthChallengeFunction": steps.CreateAuthChallenge,
		"VerifyAuthChallengeFunction": steps.VerifyAuthChallenge,
	}
}

// triggerSlots are the pool's trigger slots the functions fill, by logical
// id (the template's LambdaConfig; the stack's *FunctionArn outputs).
var triggerSlots = map[string]userpool.Slot{
	"PreAuthFunction":             userpool.PreAuthentication,
	"DefineAuthChallengeFunction": userpool.DefineAuthChallenge,
	"CreateAuthChallengeFunction": userpool.CreateAuthChallenge,
	"VerifyAuthChallengeFunction": userpool.VerifyAuthChallengeResponse,
	"PreSignUpFunction":           userpool.PreSignUp,
}

// attachTriggers puts the stack's functions into the existing pool it was
// provisioned into, as `kakaoauth pool attach` does after a deploy with
// UserPoolId (shared/userpool: every other setting carried, a taken slot
// refused).
func attachTriggers(ctx context.Context, idp userpool.Cognito, st provision.Stack) error {
	fns := userpool.Functions{}
	for logical, arn := range st.Triggers {
		slot, ok := triggerSlots[logical]
		if !ok {
			return fmt.Errorf("local stack: no trigger slot for %s (infra/localstack/triggers.go)", logical)
		}
		fns[slot] = arn
	}
	read, err := userpool.Read(ctx, idp, st.UserPoolID)
	if err != nil {
		return fmt.Errorf("local stack: %w", err)
	}
	plan, err := userpool.PlanAttach(read, fns)
	if err != nil {
		return fmt.Errorf("local stack: attach the triggers to pool %s: %w", st.UserPoolID, err)
	}
	// As pool attach: never take a pool whose own users bear kakaoauth's names.
	if err := userpool.CheckReservedUsers(ctx, idp, read); err != nil {
		return fmt.Errorf("local stack: attach the triggers to pool %s: %w", st.UserPoolID, err)
	}
	if plan.Empty() {
		return nil
	}
	if _, err := userpool.Apply(ctx, idp, plan); err != nil {
		return fmt.Errorf("local stack: attach the triggers to pool %s: %w", st.UserPoolID, err)
	}
	return nil
}

// startTriggers serves the pool's triggers and registers them with moto.
func (m *Main) startTriggers(ctx context.Context, motoURL string, steps *workflow.Steps) error {
	handlers := triggerHandlers(steps)
	fns := lambdaapi.New(lambdaapi.WithLogger(m.cfg.Log))
	var missing []string
	for logical, arn := range m.stack.Triggers {
		h, ok := handlers[logical]
		if !ok {
			missing = append(missing, logical)
			continue
		}
		fns.Register(arn, h, triggerTimeout)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("local stack: the user pool's triggers %v have no handler here (infra/localstack/triggers.go)", missing)
	}
	if len(m.stack.Triggers) == 0 {
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("trigger functions: %w", err)
	}
	url := "http://" + ln.Addr().String()
	m.triggers = &http.Server{Handler: fns, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: triggerTimeout + 5*time.Second}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.triggers.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.errs <- fmt.Errorf("trigger functions: %w", err)
		}
	}()
	endpoints := map[string]string{}
	for _, arn := range m.stack.Triggers {
		endpoints[arn] = url
	}
	m.triggerMoto = motoURL
	return moto.RegisterFunctions(ctx, motoURL, endpoints)
}

// stopTriggers unregisters the triggers and stops serving them.
func (m *Main) stopTriggers() error {
	if m.triggers == nil {
		return nil
	}
	var arns []string
	for _, arn := range m.stack.Triggers {
		arns = append(arns, arn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A moto already gone has forgotten them anyway.
	_ = moto.UnregisterFunctions(ctx, m.triggerMoto, arns)
	return m.triggers.Shutdown(ctx)
}
